"""Reads of the product catalog: what is on sale, to whom, and a plan's versions.

The catalog is public to every signed-in caller (staff, partners, subscribers and API keys);
only drafts, which are work in progress, are kept to those who manage the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from common.money import Money
from crm.models import Subscriber
from orders.catalog.models import AddOn, Allowance, ChargingTier, PricePlan
from orders.permissions import OrdersPerm

if TYPE_CHECKING:
    from common.types import Actor


def _with_contents(plans: QuerySet[PricePlan]) -> QuerySet[PricePlan]:
    return plans.prefetch_related(
        Prefetch("allowances", queryset=Allowance.objects.order_by("service", "scope", "pk")),
        Prefetch("tiers", queryset=ChargingTier.objects.order_by("service", "from_quantity")),
    )


def _eligible(values: list[str], wanted: str | None) -> bool:
    """An empty eligibility list means everyone."""
    return wanted is None or not values or wanted in values


# --- price plans --------------------------------------------------------------------------------


def plan_qs_for(actor: Actor) -> QuerySet[PricePlan]:
    """Published and retired versions for everyone (lines stay on retired versions); drafts
    only for those who manage the catalog."""
    plans = PricePlan.objects.all()
    if actor.has_perm(OrdersPerm.MANAGE_CATALOG):
        return plans
    return plans.exclude(status=PricePlan.Status.DRAFT)


def plan_get_for(actor: Actor, public_id: UUID | str) -> PricePlan:
    return get_object_or_404(_with_contents(plan_qs_for(actor)), public_id=public_id)


def plans_on_sale(
    *,
    channel: str | None = None,
    customer_kind: str | None = None,
    payment_type: str | None = None,
    on: date | None = None,
) -> QuerySet[PricePlan]:
    """Published versions whose validity window includes `on` (today in the operator's time
    zone by default) and that `channel` may sell to a `customer_kind` customer."""
    on = on or timezone.localdate()
    plans = PricePlan.objects.filter(status=PricePlan.Status.PUBLISHED).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
    )
    if payment_type:
        plans = plans.filter(payment_type=payment_type)
    if channel or customer_kind:
        # Eligibility lists are short JSON arrays on a few dozen rows; checked here the same
        # way on PostgreSQL and SQLite (which has no JSON containment lookup).
        rows = plans.values_list("pk", "eligible_channels", "eligible_customer_kinds")
        plans = plans.filter(
            pk__in=[
                pk
                for pk, channels, kinds in rows
                if _eligible(channels, channel) and _eligible(kinds, customer_kind)
            ]
        )
    return _with_contents(plans).order_by("payment_type", "recurring_fee_amount", "name", "pk")


def plan_versions(code: str) -> QuerySet[PricePlan]:
    """Every version of one plan, newest first."""
    return PricePlan.objects.filter(code=code).select_related("published_by").order_by("-version")


def plan_published_version(code: str) -> PricePlan | None:
    """The version of `code` on sale now, if any."""
    return PricePlan.objects.filter(code=code, status=PricePlan.Status.PUBLISHED).first()


def plan_draft_version(code: str) -> PricePlan | None:
    """The draft of the next version of `code`, if one is being prepared."""
    return PricePlan.objects.filter(code=code, status=PricePlan.Status.DRAFT).first()


@dataclass(frozen=True, slots=True)
class PlanFamily:
    """All versions of one plan code, as the catalog home lists them."""

    code: str
    versions: list[PricePlan] = field(default_factory=list)

    @property
    def latest(self) -> PricePlan:
        return self.versions[0]

    @property
    def published(self) -> PricePlan | None:
        return next((v for v in self.versions if v.status == PricePlan.Status.PUBLISHED), None)

    @property
    def draft(self) -> PricePlan | None:
        return next((v for v in self.versions if v.status == PricePlan.Status.DRAFT), None)


def plan_families() -> list[PlanFamily]:
    """Plans grouped by code, prepaid first then postpaid, each with its versions newest first."""
    families: dict[str, PlanFamily] = {}
    for plan in PricePlan.objects.order_by("code", "-version"):
        families.setdefault(plan.code, PlanFamily(plan.code)).versions.append(plan)
    prepaid = PricePlan.PaymentType.PREPAID
    return sorted(
        families.values(), key=lambda f: (f.latest.payment_type != prepaid, f.latest.name)
    )


def plan_codes() -> list[tuple[str, str]]:
    """(code, name of its newest version) for every plan code, for pickers."""
    names: dict[str, str] = {}
    for code, name in PricePlan.objects.order_by("code", "-version").values_list("code", "name"):
        names.setdefault(code, name)
    return sorted(names.items())


@dataclass(frozen=True, slots=True)
class PlanCharges:
    recurring: Money
    activation: Money

    @property
    def first_bill(self) -> Money:
        """What a new line pays up front: the activation fee and the first period."""
        return self.activation + self.recurring


def plan_charges(plan: PricePlan) -> PlanCharges:
    return PlanCharges(
        recurring=Money(plan.recurring_fee_amount, plan.currency),
        activation=Money(plan.activation_fee_amount, plan.currency),
    )


# --- add-ons ------------------------------------------------------------------------------------


def _addons_with_contents(addons: QuerySet[AddOn]) -> QuerySet[AddOn]:
    return addons.prefetch_related(
        Prefetch("allowances", queryset=Allowance.objects.order_by("service", "scope", "pk")),
        Prefetch("conflicts_with", queryset=AddOn.objects.order_by("code")),
    )


def addon_get(public_id: UUID | str) -> AddOn:
    return get_object_or_404(_addons_with_contents(AddOn.objects.all()), public_id=public_id)


def addons_all() -> QuerySet[AddOn]:
    """Every add-on, on sale first, for the back office."""
    return _addons_with_contents(AddOn.objects.all()).order_by("status", "kind", "name")


def addons_on_sale(*, kind: str | None = None, plan_code: str | None = None) -> QuerySet[AddOn]:
    """Add-ons on sale; with `plan_code`, only those that may be bought on that plan."""
    addons = AddOn.objects.filter(status=AddOn.Status.ACTIVE)
    if kind:
        addons = addons.filter(kind=kind)
    if plan_code:
        rows = addons.values_list("pk", "plan_codes")
        addons = addons.filter(pk__in=[pk for pk, codes in rows if _eligible(codes, plan_code)])
    return _addons_with_contents(addons).order_by("kind", "price_amount", "name")


def addons_eligible_for(
    subscriber: Subscriber, *, held_codes: Iterable[str] = ()
) -> QuerySet[AddOn]:
    """The add-ons this line may buy now: on sale, priced in its account's currency, allowed on
    the plan code it is on, and conflicting with none of the add-ons it holds.

    The caller says which add-on codes the line holds (`held_codes`, usually
    addon_codes_held_by(subscriber)); a non-stackable add-on it already holds is not offered
    again. A line with
    no plan may buy only add-ons open to every plan; a terminated line may buy nothing.
    """
    if subscriber.status == Subscriber.Status.TERMINATED:
        return AddOn.objects.none()
    plan_code = subscriber.plan.code if subscriber.plan is not None else None
    addons = AddOn.objects.filter(status=AddOn.Status.ACTIVE, currency=subscriber.account.currency)
    rows = addons.values_list("pk", "plan_codes")
    addons = addons.filter(
        pk__in=[pk for pk, codes in rows if not codes or (plan_code and plan_code in codes)]
    )
    held = sorted(set(held_codes))
    if held:
        addons = addons.exclude(conflicts_with__code__in=held).exclude(
            code__in=held, stackable=False
        )
    return _addons_with_contents(addons).order_by("kind", "price_amount", "name")


def plan_pks_by_payment_type(*, currency: str) -> dict[str, list[int]]:
    """Published plans' pks in `currency` by payment type."""
    plans: dict[str, list[int]] = {}
    for pk, payment_type in PricePlan.objects.filter(
        status=PricePlan.Status.PUBLISHED, currency=currency
    ).values_list("pk", "payment_type"):
        plans.setdefault(payment_type, []).append(pk)
    return plans
