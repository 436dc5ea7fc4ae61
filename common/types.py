"""Types every app shares."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AbstractUser, AnonymousUser

# Whoever makes a request: a signed-in person, an API key's machine user, or nobody.
Actor: TypeAlias = AbstractUser | AnonymousUser
