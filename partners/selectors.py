from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from partners.models import Partner


def partner_of(user: AbstractBaseUser | AnonymousUser) -> Partner | None:
    """The partner whose staff `user` is, or None."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_partner_cache", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    partner = Partner.objects.filter(members__user=user).first()
    user._partner_cache = partner  # type: ignore[union-attr]
    return partner


def partner_subtree(partner: Partner) -> QuerySet[Partner]:
    return Partner.objects.filter(path__startswith=partner.path)
