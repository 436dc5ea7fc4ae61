from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.db.models import QuerySet

from partners.models import Partner

if TYPE_CHECKING:
    from common.types import Actor


def partner_of(user: Actor) -> Partner | None:
    """The partner whose staff `user` is, or None."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_partner_cache", False)
    if cached is not False:
        return cast("Partner | None", cached)
    partner = Partner.objects.filter(members__user_id=user.pk).first()
    user._partner_cache = partner  # type: ignore[union-attr,attr-defined]
    return partner


def partner_subtree(partner: Partner) -> QuerySet[Partner]:
    return Partner.objects.filter(path__startswith=partner.path)
