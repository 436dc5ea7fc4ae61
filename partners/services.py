from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from common.errors import ApplicationError
from partners.models import Partner, PartnerUser

if TYPE_CHECKING:
    from crm.models import User


@transaction.atomic
def partner_create(
    *, code: str, name: str, kind: str = Partner.Kind.RESELLER, parent: Partner | None = None
) -> Partner:
    """Create a partner under `parent`; its path makes the subtree one prefix query."""
    if Partner.objects.filter(code=code).exists():
        raise ApplicationError(
            f"A partner with code {code!r} already exists.", fields={"code": ["Already in use."]}
        )
    path = f"{parent.path if parent else ''}{code}/"
    return Partner.objects.create(code=code, name=name, kind=kind, parent=parent, path=path)


@transaction.atomic
def partner_user_add(*, partner: Partner, user: User) -> PartnerUser:
    """Make `user` a member of `partner`'s staff; partner users are never staff of the operator."""
    if user.is_staff or user.is_superuser:
        raise ApplicationError("Operator staff cannot be partner users.")
    membership, _ = PartnerUser.objects.update_or_create(user=user, defaults={"partner": partner})
    return membership
