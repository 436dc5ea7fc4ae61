"""Price plans and their versions, allowances and charging tiers.

Every change is audited on the version it changes (common.audit), in the same transaction: who
made it and what changed, before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from common.audit import audit_record, changes_between, changes_created, snapshot
from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.money import Money
from common.parsing import (
    amount_parse,
    choice_parse,
    choices_parse,
    currency_parse,
    date_parse,
    decimal_parse,
    text_parse,
)
from crm.models import Customer, User
from orders.catalog.models import Allowance, Channel, ChargingTier, PricePlan, Service
from orders.catalog.services._checks import (
    QUANTITY_MAX,
    AllowanceData,
    allowances_replace,
    code_check,
    number_label,
    transition_check,
)

if TYPE_CHECKING:  # the catalog sits below billing: a plan only refers to its tariff
    from billing.rating.models import Tariff

# --- price plans --------------------------------------------------------------------------------

PLAN_EDITABLE = (
    "name",
    "description",
    "payment_type",
    "currency",
    "recurring_fee_amount",
    "recurring_period",
    "activation_fee_amount",
    "proration",
    "tariff",
    "eligible_customer_kinds",
    "eligible_channels",
    "valid_from",
    "valid_to",
)
# What the audit log keeps of a plan when it is created.
PLAN_AUDITED = ("code", "version", *PLAN_EDITABLE, "status")


def _plan_values(values: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """Check and normalise every editable field of a plan."""
    clean: dict[str, Any] = {
        "name": text_parse(values.get("name"), "name", errors, limit=120, missing="Name the plan."),
        "description": text_parse(values.get("description"), "description", errors, limit=2000),
        "payment_type": choice_parse(
            values.get("payment_type") or "",
            "payment_type",
            errors,
            PricePlan.PaymentType,
            "payment type",
        ),
        "currency": currency_parse(values.get("currency"), errors),
        "recurring_fee_amount": amount_parse(
            values.get("recurring_fee_amount"),
            "recurring_fee_amount",
            errors,
            what="The recurring fee",
            missing="A plan needs a price: give its recurring fee (0 for a plan with no fee).",
        ),
        "recurring_period": choice_parse(
            values.get("recurring_period") or PricePlan.Period.MONTH,
            "recurring_period",
            errors,
            PricePlan.Period,
            "period",
        ),
        "activation_fee_amount": amount_parse(
            values.get("activation_fee_amount"),
            "activation_fee_amount",
            errors,
            what="The activation fee",
        ),
        "proration": choice_parse(
            values.get("proration") or PricePlan.Proration.DAILY,
            "proration",
            errors,
            PricePlan.Proration,
            "proration rule",
        ),
        "tariff": values.get("tariff"),
        "eligible_customer_kinds": choices_parse(
            values.get("eligible_customer_kinds"),
            "eligible_customer_kinds",
            errors,
            Customer.Kind,
        ),
        "eligible_channels": choices_parse(
            values.get("eligible_channels"), "eligible_channels", errors, Channel
        ),
        "valid_from": date_parse(values.get("valid_from"), "valid_from", errors),
        "valid_to": date_parse(values.get("valid_to"), "valid_to", errors),
    }
    tariff = clean["tariff"]
    if tariff is not None and getattr(tariff, "_meta", None) is not None:
        if tariff._meta.label != "billing.Tariff":
            errors.add("tariff", "Choose one of the tariffs.")
        elif tariff.currency != clean["currency"]:
            errors.add(
                "tariff",
                f"The tariff {tariff.code} prices in {tariff.currency}; the plan is sold in "
                f"{clean['currency']}. Choose a tariff in the plan's currency.",
            )
    elif tariff is not None:
        errors.add("tariff", "Choose one of the tariffs.")
    if clean["activation_fee_amount"] is None:
        clean["activation_fee_amount"] = Decimal("0")
    valid_from: date | None = clean["valid_from"]
    valid_to: date | None = clean["valid_to"]
    if valid_from and valid_to and valid_to < valid_from:
        errors.add(
            "valid_to",
            f"The plan cannot stop being sold ({valid_to:%d %b %Y}) before it starts "
            f"({valid_from:%d %b %Y}).",
        )
    return clean


@transaction.atomic
def plan_create(
    *,
    actor: User,
    code: str,
    name: str,
    payment_type: str,
    recurring_fee_amount: Decimal | str | None,
    currency: str | None = None,
    recurring_period: str = PricePlan.Period.MONTH,
    activation_fee_amount: Decimal | str | None = Decimal("0"),
    proration: str = PricePlan.Proration.DAILY,
    tariff: Tariff | None = None,
    eligible_customer_kinds: Sequence[str] = (),
    eligible_channels: Sequence[str] = (),
    valid_from: date | None = None,
    valid_to: date | None = None,
    description: str = "",
) -> PricePlan:
    """Start a new plan as draft version 1; nothing is on sale until it is published.

    The recurring fee has no default: a plan sold without a price is a costly mistake, so a
    free plan must say 0 explicitly.
    """
    errors = FieldErrors()
    code = code_check(code, "code", errors, what="plan")
    if code and PricePlan.objects.filter(code=code).exists():
        errors.add(
            "code", f"A plan with the code {code!r} already exists; make a new version of it."
        )
    values = _plan_values(
        {
            "name": name,
            "description": description,
            "payment_type": payment_type,
            "currency": currency,
            "recurring_fee_amount": recurring_fee_amount,
            "recurring_period": recurring_period,
            "activation_fee_amount": activation_fee_amount,
            "proration": proration,
            "tariff": tariff,
            "eligible_customer_kinds": eligible_customer_kinds,
            "eligible_channels": eligible_channels,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
        errors,
    )
    errors.raise_if_any("The plan was not created.")
    try:
        with transaction.atomic():
            plan = PricePlan.objects.create(code=code, version=1, **values)
    except IntegrityError:  # the same code created by someone else at the same moment
        raise ApplicationError(
            "The plan was not created.",
            fields={"code": [f"A plan with the code {code!r} already exists."]},
        ) from None
    audit_record(
        actor=actor,
        instance=plan,
        action="created",
        changes=changes_created(snapshot(plan, PLAN_AUDITED)),
    )
    return plan


def _plan_locked(plan: PricePlan) -> PricePlan:
    """Lock every version of the plan's code, in pk order, and return `plan` fresh."""
    versions = list(PricePlan.objects.select_for_update().filter(code=plan.code).order_by("pk"))
    return next(version for version in versions if version.pk == plan.pk)


def _require_draft(plan: PricePlan, change: str) -> None:
    if plan.status != PricePlan.Status.DRAFT:
        raise InvalidTransition(
            f"Version {plan.version} of {plan.name} is {plan.status}; {change} only on a draft. "
            "Make a new version to change it."
        )


@transaction.atomic
def plan_update(*, plan: PricePlan, actor: User, **changes: Any) -> PricePlan:
    """Change a draft in place. A published version is what subscribers bought, so it is never
    edited: a change to it is a new version (plan_new_version)."""
    if unknown := set(changes) - set(PLAN_EDITABLE):
        raise ApplicationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    plan = _plan_locked(plan)
    _require_draft(plan, "plans are edited")
    current = {name: getattr(plan, name) for name in PLAN_EDITABLE}
    errors = FieldErrors()
    values = _plan_values({**current, **changes}, errors)
    errors.raise_if_any("The plan was not saved.")
    before = snapshot(plan, PLAN_EDITABLE)
    changed = [name for name, value in values.items() if getattr(plan, name) != value]
    for name in changed:
        setattr(plan, name, values[name])
    if changed:
        plan.save(update_fields=[*changed, "updated_at"])
    if diff := changes_between(before, snapshot(plan, PLAN_EDITABLE)):
        audit_record(actor=actor, instance=plan, action="updated", changes=diff)
    return plan


@transaction.atomic
def plan_new_version(*, plan: PricePlan, actor: User) -> PricePlan:
    """Copy the published version, with its allowances and tiers, into draft version N+1.

    Only one draft per plan exists at a time, so two people never prepare competing changes.
    """
    plan = _plan_locked(plan)
    if plan.status != PricePlan.Status.PUBLISHED:
        raise InvalidTransition(
            f"Version {plan.version} of {plan.name} is {plan.status}; only the published version "
            "is copied into a new version."
        )
    draft = PricePlan.objects.filter(code=plan.code, status=PricePlan.Status.DRAFT).first()
    if draft is not None:
        raise ApplicationError(
            f"Draft version {draft.version} of {plan.name} already exists; edit it instead.",
            code="conflict",
        )
    last = PricePlan.objects.filter(code=plan.code).aggregate(last=Max("version"))["last"]
    new = PricePlan.objects.create(
        code=plan.code,
        version=(last or 0) + 1,
        status=PricePlan.Status.DRAFT,
        **{name: getattr(plan, name) for name in PLAN_EDITABLE},
    )
    Allowance.objects.bulk_create(
        Allowance(plan=new, service=a.service, quantity=a.quantity, scope=a.scope, zone=a.zone)
        for a in plan.allowances.order_by("pk")
    )
    ChargingTier.objects.bulk_create(
        ChargingTier(
            plan=new,
            service=t.service,
            from_quantity=t.from_quantity,
            to_quantity=t.to_quantity,
            unit_price_amount=t.unit_price_amount,
        )
        for t in plan.tiers.order_by("pk")
    )
    audit_record(
        actor=actor,
        instance=new,
        action="new version",
        changes={"version": [plan.version, new.version]},
    )
    return new


@transaction.atomic
def plan_publish(*, plan: PricePlan, actor: User) -> PricePlan:
    """Put a draft on sale. The version on sale until now is retired in the same transaction,
    so exactly one version of a code is ever on sale; its subscribers keep it, because a line
    points at the version it bought (crm.Subscriber.plan), not at the code."""
    plan = _plan_locked(plan)
    transition_check(
        PricePlan.TRANSITIONS,
        plan.status,
        PricePlan.Status.PUBLISHED,
        f"Version {plan.version} of {plan.name}",
    )
    # Settings may have changed since the draft was saved: check it again as a whole.
    errors = FieldErrors()
    _plan_values({name: getattr(plan, name) for name in PLAN_EDITABLE}, errors)
    today = timezone.localdate()
    if plan.valid_to is not None and plan.valid_to < today:
        errors.add(
            "valid_to",
            f"The plan stopped being sold on {plan.valid_to:%d %b %Y}; it would never be on "
            "sale. Change the end date first.",
        )
    errors.raise_if_any("The plan was not published.")
    now = timezone.now()
    replaced = list(
        PricePlan.objects.filter(code=plan.code, status=PricePlan.Status.PUBLISHED).order_by("pk")
    )
    PricePlan.objects.filter(pk__in=[old.pk for old in replaced]).update(
        status=PricePlan.Status.RETIRED, updated_at=now
    )
    for old in replaced:
        audit_record(
            actor=actor,
            instance=old,
            action="retired",
            changes={"status": [old.status, PricePlan.Status.RETIRED]},
            reason=f"Replaced by version {plan.version}.",
        )
    old_status = plan.status
    plan.status = PricePlan.Status.PUBLISHED
    plan.published_at = now
    plan.published_by = actor
    plan.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    audit_record(
        actor=actor,
        instance=plan,
        action="published",
        changes={"status": [old_status, plan.status]},
    )
    return plan


@transaction.atomic
def plan_retire(*, plan: PricePlan, actor: User) -> PricePlan:
    """Take a version off sale (or discard a draft). Lines on it keep it until they change
    plan; it is never sold again."""
    plan = _plan_locked(plan)
    transition_check(
        PricePlan.TRANSITIONS,
        plan.status,
        PricePlan.Status.RETIRED,
        f"Version {plan.version} of {plan.name}",
    )
    old_status = plan.status
    plan.status = PricePlan.Status.RETIRED
    plan.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        instance=plan,
        action="retired",
        changes={"status": [old_status, plan.status]},
    )
    return plan


@transaction.atomic
def plan_allowances_set(
    *, plan: PricePlan, actor: User, allowances: Sequence[AllowanceData]
) -> list[Allowance]:
    """Replace everything a draft plan includes (minutes, SMS, data, by scope)."""
    plan = _plan_locked(plan)
    _require_draft(plan, "allowances change")
    return allowances_replace(plan=plan, addon=None, actor=actor, allowances=allowances)


# --- charging tiers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierData:
    service: str
    from_quantity: Decimal | str | None
    to_quantity: Decimal | str | None
    unit_price_amount: Decimal | str | None


@dataclass(frozen=True, slots=True)
class _Tier:
    index: int
    service: str
    start: Decimal
    end: Decimal | None
    unit_price: Money

    @property
    def label(self) -> str:
        return f"{self.index + 1} ({self.start.normalize():f} to {_end(self.end)})"


def _end(end: Decimal | None) -> str:
    return "no limit" if end is None else f"{end.normalize():f}"


def _tier_labels(tiers: Sequence[ChargingTier]) -> list[str]:
    """A plan's tiers, one readable line each, for the audit log: e.g. "sms 0-100 at 0.1",
    "sms 100+ at 0.05" (prices in the plan's currency)."""
    return sorted(
        (
            f"{t.service} {number_label(t.from_quantity)}"
            f"{'+' if t.to_quantity is None else '-' + number_label(t.to_quantity)}"
            f" at {number_label(t.unit_price_amount)}"
        )
        for t in tiers
    )


def _tier_rows(tiers: Sequence[TierData], currency: str, errors: FieldErrors) -> list[_Tier]:
    rows: list[_Tier] = []
    for index, given in enumerate(tiers):
        prefix = f"tiers.{index}."
        service = choice_parse(given.service, f"{prefix}service", errors, Service, "service")
        start = decimal_parse(
            given.from_quantity,
            f"{prefix}from_quantity",
            errors,
            what="The start of the tier",
            places=2,
            maximum=QUANTITY_MAX,
            missing="Give where the tier starts (0 for the first).",
        )
        end = decimal_parse(
            given.to_quantity,
            f"{prefix}to_quantity",
            errors,
            what="The end of the tier",
            places=2,
            maximum=QUANTITY_MAX,
        )
        price = amount_parse(
            given.unit_price_amount,
            f"{prefix}unit_price_amount",
            errors,
            what="The unit price",
            missing="Give the price per unit (enter 0 for free units).",
        )
        if start is not None and end is not None and end <= start:
            errors.add(
                f"{prefix}to_quantity",
                f"The tier must end above where it starts ({start.normalize():f}).",
            )
            continue
        if start is not None and price is not None and service in Service.values:
            rows.append(_Tier(index, service, start, end, Money(price, currency)))
    return rows


def _check_tier_bands(rows: list[_Tier], errors: FieldErrors) -> None:
    """Per service, the bands start at 0 and follow each other without overlap or gap, so
    every unit of usage has exactly one price."""
    for service in Service.values:
        bands = sorted((r for r in rows if r.service == service), key=lambda r: r.start)
        if not bands:
            continue
        name = Service(service).label.split(" ")[0]
        first = bands[0]
        if first.start != 0:
            errors.add(
                f"tiers.{first.index}.from_quantity",
                f"{name} tiers must start at 0; the first starts at {first.start.normalize():f}.",
            )
        for before, after in pairwise(bands):
            if before.end is None or after.start < before.end:
                message = f"{name} tiers {before.label} and {after.label} overlap."
                errors.add(f"tiers.{before.index}.to_quantity", message)
                errors.add(f"tiers.{after.index}.from_quantity", message)
                errors.add("tiers", message)
            elif after.start > before.end:
                message = (
                    f"{name} tiers {before.label} and {after.label} leave a gap: "
                    f"{_end(before.end)} to {after.start.normalize():f} has no price."
                )
                errors.add(f"tiers.{after.index}.from_quantity", message)
                errors.add("tiers", message)


@transaction.atomic
def plan_tiers_set(
    *, plan: PricePlan, actor: User, tiers: Sequence[TierData]
) -> list[ChargingTier]:
    """Replace a draft plan's volume bands (e.g. the first 100 SMS at 10p, then 5p), priced in
    the plan's currency."""
    plan = _plan_locked(plan)
    _require_draft(plan, "charging tiers change")
    errors = FieldErrors()
    rows = _tier_rows(tiers, plan.currency, errors)
    _check_tier_bands(rows, errors)
    errors.raise_if_any("The charging tiers were not saved.")
    existing = ChargingTier.objects.filter(plan=plan)
    before = _tier_labels(list(existing))
    existing.delete()
    created = ChargingTier.objects.bulk_create(
        ChargingTier(
            plan=plan,
            service=row.service,
            from_quantity=row.start,
            to_quantity=row.end,
            unit_price_amount=row.unit_price.amount,
        )
        for row in rows
    )
    if (after := _tier_labels(created)) != before:
        audit_record(
            actor=actor, instance=plan, action="updated", changes={"tiers": [before, after]}
        )
    return created
