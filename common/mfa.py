"""Two-factor sign-in (allauth.mfa's TOTP and recovery codes) as the operator requires it: who
must set it up before working (settings.MFA_REQUIRED_ROLES, enforced by common.mfa_gate), and
the audited reset of a staff member's two-factor sign-in when their phone is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast
from uuid import UUID

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from common.audit import audit_record
from common.errors import ApplicationError
from common.permissions import CommonPerm
from common.roles import STAFF_ROLES, Role
from common.types import Actor, UserLike


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


# --- resetting someone's two-factor sign-in (a lost or replaced phone) ------------------------

# Either lets a person open the staff page; staff_qs_for says whom they may reset.
RESET_PERMISSIONS = (CommonPerm.RESET_CSR_TWO_FACTOR, CommonPerm.RESET_STAFF_TWO_FACTOR)


def _in_roles(roles: Iterable[Role]) -> QuerySet[Any]:
    """The pks of the users in any of `roles`' groups (a subquery)."""
    memberships = get_user_model().groups.through.objects
    return memberships.filter(group__name__in=[role.value for role in roles]).values("user_id")


def staff_qs_for(actor: Actor) -> QuerySet[Any]:
    """The staff whose two-factor sign-in `actor` may reset, by name: every CSR, supervisor and
    admin for an admin (common.reset_staff_two_factor); CSRs alone, not anyone who also holds
    a higher staff role, for a supervisor (common.reset_csr_two_factor); never the actor
    themselves (one's own is changed on one's security page) nor a superuser unless the actor
    is one; nobody for anyone else. Each row says whether two-factor sign-in is set up
    (`has_totp`) and whether anything is left to reset (`has_authenticator`), and brings its
    groups."""
    users = get_user_model().objects.none()
    if not actor.is_authenticated:
        return users
    if actor.has_perm(CommonPerm.RESET_STAFF_TWO_FACTOR):
        users = get_user_model().objects.filter(pk__in=_in_roles(STAFF_ROLES))
    elif actor.has_perm(CommonPerm.RESET_CSR_TWO_FACTOR):
        higher = [role for role in STAFF_ROLES if role != Role.CSR]
        users = (
            get_user_model()
            .objects.filter(pk__in=_in_roles([Role.CSR]))
            .exclude(pk__in=_in_roles(higher))
        )
    if not actor.is_superuser:
        users = users.exclude(is_superuser=True)
    authenticators = Authenticator.objects.filter(user=OuterRef("pk"))
    return (
        users.filter(is_machine=False)
        .exclude(pk=cast("int", actor.pk))
        .annotate(
            has_totp=Exists(authenticators.filter(type=Authenticator.Type.TOTP)),
            has_authenticator=Exists(authenticators),
        )
        .prefetch_related("groups")
        .order_by("last_name", "first_name", "email")
    )


def staff_get_for(actor: Actor, public_id: UUID | str) -> Any:
    """One staff member `actor` may reset; anyone else answers 404."""
    return get_object_or_404(staff_qs_for(actor), public_id=public_id)


def staff_roles_of(user: Any) -> list[Role]:
    """The staff roles `user` holds (from prefetched groups), in the order of STAFF_ROLES."""
    names = {group.name for group in user.groups.all()}
    return [role for role in STAFF_ROLES if role.value in names]


@transaction.atomic
def staff_two_factor_reset(*, actor: UserLike, user: UserLike, reason: str) -> list[str]:
    """Forget every authenticator of `user` (the TOTP app and its recovery codes) when their
    phone is lost or replaced, so they can sign in with their password again and must set up a
    new app before anything else (the two-factor gate; adding it asks for the password once
    more). Only within the actor's reach (staff_qs_for); the reason is required and the reset
    is audited on the user with who did it. Returns the kinds of authenticator removed."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            "Say why the two-factor sign-in is reset.",
            fields={"reason": ["Say why, e.g. “Phone lost, identity checked by phone call”."]},
        )
    if not staff_qs_for(actor).filter(pk=user.pk).exists():
        raise PermissionDenied("You may not reset this person's two-factor sign-in.")
    get_user_model().objects.select_for_update().get(pk=user.pk)  # one reset at a time
    authenticators = Authenticator.objects.filter(user_id=user.pk)
    kinds = sorted({str(kind) for kind in authenticators.values_list("type", flat=True)})
    if not kinds:
        raise ApplicationError(
            f"{user} has no two-factor sign-in set up: there is nothing to reset.",
            code="conflict",
        )
    authenticators.delete()
    audit_record(
        actor=actor,
        instance=user,
        action="two-factor reset",
        changes={"two_factor": [kinds, []]},
        reason=reason,
    )
    return kinds
