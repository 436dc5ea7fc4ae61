"""Reads of the partner tree: whose staff a user is, what a back-office admin may see, the
tree with its figures, a partner's users and the partners it may move under."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from common.audit import audit_events_for
from common.models import AuditEvent
from partners.models import Partner, PartnerUser
from partners.permissions import PartnersPerm

if TYPE_CHECKING:
    from common.types import Actor


def partner_of(user: Actor) -> Partner | None:
    """The partner whose staff `user` is (an active membership), or None."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_partner_cache", False)
    if cached is not False:
        return cast("Partner | None", cached)
    partner = Partner.objects.filter(members__user_id=user.pk, members__is_active=True).first()
    user._partner_cache = partner  # type: ignore[union-attr,attr-defined]
    return partner


def partner_subtree(partner: Partner) -> QuerySet[Partner]:
    """The partner and every partner below it: one prefix filter on the materialised path."""
    return Partner.objects.filter(path__startswith=partner.path)


def partner_qs_for(actor: Actor) -> QuerySet[Partner]:
    """Back-office partner managers see every partner; a partner's staff its own subtree;
    anyone else none."""
    qs = Partner.objects.select_related("parent")
    if actor.has_perm(PartnersPerm.MANAGE_PARTNERS):
        return qs
    if (partner := partner_of(actor)) is not None:
        return qs.filter(path__startswith=partner.path)
    return qs.none()


def partner_get_for(actor: Actor, public_id: UUID | str) -> Partner:
    """One partner the actor may see; 404 otherwise (denial looks like absence)."""
    return get_object_or_404(partner_qs_for(actor), public_id=public_id)


def _by_path(partners: QuerySet[Partner]) -> list[Partner]:
    """Tree order (parents before children), sorted here by code point: a database collation
    may ignore the "/" that keeps children under their parent."""
    return sorted(partners, key=lambda p: p.path)


def partner_depth(partner: Partner) -> int:
    return partner.path.count("/") - 1


@dataclass(frozen=True, slots=True)
class PartnerRow:
    partner: Partner
    depth: int
    users: int
    own_customers: int
    subtree_customers: int
    sims_on_shelf: int


def _active_user_counts() -> dict[int, int]:
    rows = (
        PartnerUser.objects.filter(is_active=True)
        .order_by()
        .values_list("partner_id")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


def partner_tree(*, sims_on_shelf: Mapping[int, int] | None = None) -> list[PartnerRow]:
    """Every partner in tree order with its figures: active users, customers registered by the
    partner itself (`own_customers`) and with every partner below it (`subtree_customers`),
    and the SIMs on its shelf (counted by the inventory, which owns SIMs, and passed in).

    Two queries whatever the size of the tree: the partners with their customer counts, and the
    user counts (each its own GROUP BY, so the joins never multiply each other's rows).
    """
    partners = _by_path(
        Partner.objects.select_related("parent").annotate(own_customers=Count("customers"))
    )
    users = _active_user_counts()
    shelf = sims_on_shelf or {}
    subtree = {p.path: 0 for p in partners}
    for partner in partners:
        segments = partner.path.rstrip("/").split("/")
        for depth in range(1, len(segments) + 1):
            prefix = "/".join(segments[:depth]) + "/"
            if prefix in subtree:
                subtree[prefix] += partner.own_customers  # type: ignore[attr-defined]
    return [
        PartnerRow(
            partner=p,
            depth=partner_depth(p),
            users=users.get(p.pk, 0),
            own_customers=p.own_customers,  # type: ignore[attr-defined]
            subtree_customers=subtree[p.path],
            sims_on_shelf=shelf.get(p.pk, 0),
        )
        for p in partners
    ]


def partner_ancestors(partner: Partner) -> list[Partner]:
    """The partners above `partner`, from the top down (for a breadcrumb)."""
    segments = partner.path.rstrip("/").split("/")[:-1]
    prefixes = ["/".join(segments[: n + 1]) + "/" for n in range(len(segments))]
    return _by_path(Partner.objects.filter(path__in=prefixes))


def partner_children(partner: Partner) -> QuerySet[Partner]:
    return partner.children.order_by("name", "pk")


def partner_users(partner: Partner) -> QuerySet[PartnerUser]:
    """The partner's current users, by name."""
    return (
        PartnerUser.objects.filter(partner=partner, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def partner_user_get(partner: Partner, user_public_id: UUID | str) -> PartnerUser:
    """One current user of `partner`, by the user's public id; 404 otherwise."""
    return get_object_or_404(
        PartnerUser.objects.select_related("user", "partner").filter(
            partner=partner, is_active=True
        ),
        user__public_id=user_public_id,
    )


def partner_parent_choices() -> list[Partner]:
    """Where a new partner may go: under any active partner (or at the top)."""
    return _by_path(Partner.objects.filter(status=Partner.Status.ACTIVE))


def partner_move_targets(partner: Partner) -> list[Partner]:
    """The partners `partner` may move under: active ones outside its own subtree, other than
    its current parent (moving there would change nothing)."""
    qs = Partner.objects.filter(status=Partner.Status.ACTIVE).exclude(path__startswith=partner.path)
    if partner.parent_id is not None:
        qs = qs.exclude(pk=partner.parent_id)
    return _by_path(qs)


@dataclass(frozen=True, slots=True)
class PartnerFigures:
    users: int
    own_customers: int
    subtree_customers: int
    sub_partners: int


def partner_figures(partner: Partner) -> PartnerFigures:
    """The partner's active users, its customers (its own, and with every partner below it)
    and how many partners sit below it."""
    own = Partner.objects.filter(pk=partner.pk).aggregate(n=Count("customers"))["n"]
    subtree = partner_subtree(partner).aggregate(
        customers=Count("customers"), partners=Count("pk", distinct=True)
    )
    return PartnerFigures(
        users=PartnerUser.objects.filter(partner=partner, is_active=True).count(),
        own_customers=own,
        subtree_customers=subtree["customers"],
        sub_partners=subtree["partners"] - 1,
    )


CHANGE_LABELS = {
    "code": "Code",
    "name": "Name",
    "kind": "Kind",
    "parent": "Parent",
    "path": "Path",
    "status": "Status",
    "user": "User",
    "login": "Login",
    "sub_partners_moved": "Partners moved with it",
}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    event: AuditEvent
    changes: list[tuple[str, Any, Any]]


def partner_history(partner: Partner, *, limit: int = 100) -> list[HistoryEntry]:
    """The partner's audited changes (and those of its users), newest first, each change as
    (label, before, after)."""
    return [
        HistoryEntry(
            event=event,
            changes=[
                (CHANGE_LABELS.get(field, field), pair[0], pair[1])
                for field, pair in event.changes.items()
            ],
        )
        for event in audit_events_for(partner)[:limit]
    ]
