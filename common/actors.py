"""The named actor that scheduled jobs act as, so every change they make says who made it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

SYSTEM_ACTOR_EMAIL = "system@telecrm.invalid"


def system_actor() -> Any:
    """The system's own user (created on first use): it cannot sign in anywhere, and events it
    writes read "System (scheduled jobs)"."""
    email = getattr(settings, "SYSTEM_ACTOR_EMAIL", SYSTEM_ACTOR_EMAIL)
    user_model = get_user_model()
    user = user_model.objects.filter(email=email).first()
    if user is None:
        user, _ = user_model.objects.get_or_create(
            email=email,
            defaults={
                "first_name": "System",
                "last_name": "(scheduled jobs)",
                "is_machine": True,
                "password": "!",  # an unusable password: nobody signs in as the system
            },
        )
    return user
