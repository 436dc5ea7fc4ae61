"""Two-factor sign-in (allauth.mfa's TOTP and recovery codes) as the operator requires it: who
must set it up before working (settings.MFA_REQUIRED_ROLES, enforced by common.mfa_gate).
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from common.roles import Role
from common.types import Actor


def two_factor_required_roles() -> list[Role]:
    """The roles settings.MFA_REQUIRED_ROLES names (`csr`, `supervisor`, `admin`, `reseller`,
    `subscriber`: the Role members' names)."""
    return [Role[name.upper()] for name in settings.MFA_REQUIRED_ROLES]


def two_factor_setup_required(user: Actor) -> bool:
    """Whether `user` must set up an authenticator app before anything but the sign-in and
    security pages: they hold a role that requires two-factor sign-in (a superuser counts as an
    admin) and have no TOTP authenticator. An API key's machine user never does. One query,
    and none while no role requires it."""
    roles = two_factor_required_roles()
    if not roles or not user.is_authenticated or getattr(user, "is_machine", False):
        return False
    in_role = Q(groups__name__in=[role.value for role in roles])
    if Role.ADMIN in roles:
        in_role |= Q(is_superuser=True)
    totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    return (
        get_user_model()
        .objects.filter(in_role, pk=user.pk, is_active=True)
        .exclude(Exists(totp))
        .exists()
    )
