"""Types every app shares."""

from __future__ import annotations

from typing import Any, TypeAlias

from django.contrib.auth.models import AbstractUser, AnonymousUser

# Whoever makes a request: a signed-in person, an API key's machine user, or nobody.
Actor: TypeAlias = AbstractUser | AnonymousUser

# The project's user model (settings.AUTH_USER_MODEL, crm.User). common imports no app, so its
# services take the user without naming the class.
UserLike: TypeAlias = Any
