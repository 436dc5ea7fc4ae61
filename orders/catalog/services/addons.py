"""Add-ons: data boosters, roaming and SMS packs, and what each includes.

Every change is audited on the add-on it changes (common.audit), in the same transaction. A
conflict is mutual, so setting one add-on's conflicts also changes, and audits, the other side.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.audit import audit_record, changes_between, changes_created, snapshot
from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.parsing import amount_parse, choice_parse, currency_parse, text_parse
from crm.models import User
from orders.catalog.models import AddOn, Allowance
from orders.catalog.services._checks import (
    ADDON_MAX_DAYS,
    ZONE_PATTERN,
    AllowanceData,
    allowances_replace,
    code_check,
    plan_codes_check,
)

# --- add-ons ------------------------------------------------------------------------------------

ADDON_EDITABLE = (
    "name",
    "kind",
    "price_amount",
    "currency",
    "validity_days",
    "stackable",
    "zone",
    "plan_codes",
    "conflicts_with",
)
# What the audit log keeps of an add-on (its conflicts as a sorted list of codes).
ADDON_AUDITED = ("code", *ADDON_EDITABLE, "status")


def _audited(addon: AddOn) -> dict[str, Any]:
    fields = [name for name in ADDON_AUDITED if name != "conflicts_with"]
    return {**snapshot(addon, fields), "conflicts_with": _conflict_codes(addon)}


def _conflict_codes(addon: AddOn) -> list[str]:
    return sorted(addon.conflicts_with.values_list("code", flat=True))


def _conflicts_set(*, addon: AddOn, conflicts: list[AddOn], actor: User) -> None:
    """Set the add-ons `addon` conflicts with. The relation is symmetric, so each add-on that
    gains or loses `addon` as a conflict changed too: its audit row says so."""
    gained_or_lost = set(_conflict_codes(addon)) ^ {other.code for other in conflicts}
    others = list(AddOn.objects.filter(code__in=gained_or_lost).order_by("code"))
    before = {other.pk: _conflict_codes(other) for other in others}
    addon.conflicts_with.set(conflicts)
    for other in others:
        audit_record(
            actor=actor,
            instance=other,
            action="updated",
            changes={"conflicts_with": [before[other.pk], _conflict_codes(other)]},
            reason=f"Conflicts are mutual: changed with {addon.code}.",
        )


def _addon_values(
    values: dict[str, Any], errors: FieldErrors, *, own_code: str
) -> tuple[dict[str, Any], list[AddOn]]:
    kind = choice_parse(values.get("kind") or "", "kind", errors, AddOn.Kind, "kind of add-on")
    zone = (values.get("zone") or "").strip().upper()
    if kind == AddOn.Kind.ROAMING_PACK and not zone:
        errors.add("zone", "A roaming pack names its zone or country, e.g. EU or US.")
    elif zone and kind != AddOn.Kind.ROAMING_PACK:
        errors.add("zone", "Only roaming packs have a zone.")
    elif zone and (len(zone) > 40 or not ZONE_PATTERN.match(zone)):
        errors.add("zone", "Use letters and digits, at most 40, e.g. EU.")
    days_raw = values.get("validity_days")
    try:
        days = int(days_raw) if days_raw not in (None, "") else None
    except (TypeError, ValueError):
        days = None
    if days is None:
        errors.add("validity_days", "Give how many days the add-on lasts.")
    elif not 1 <= days <= ADDON_MAX_DAYS:
        errors.add("validity_days", f"An add-on lasts between 1 and {ADDON_MAX_DAYS} days.")
    conflict_codes = sorted(
        {str(c).strip().lower() for c in (values.get("conflicts_with") or []) if str(c).strip()}
    )
    conflicts: list[AddOn] = []
    if own_code and own_code in conflict_codes:
        errors.add("conflicts_with", "An add-on cannot conflict with itself.")
        conflict_codes.remove(own_code)
    if conflict_codes:
        conflicts = list(AddOn.objects.filter(code__in=conflict_codes).order_by("code"))
        known = {addon.code for addon in conflicts}
        if unknown := [code for code in conflict_codes if code not in known]:
            errors.add(
                "conflicts_with", f"No add-on has the code {', '.join(repr(c) for c in unknown)}."
            )
    clean = {
        "name": text_parse(
            values.get("name"), "name", errors, limit=120, missing="Name the add-on."
        ),
        "kind": kind,
        "price_amount": amount_parse(
            values.get("price_amount"),
            "price_amount",
            errors,
            what="The price",
            missing="An add-on needs a price (enter 0 for a free one).",
        ),
        "currency": currency_parse(values.get("currency"), errors),
        "validity_days": days,
        "stackable": bool(values.get("stackable")),
        "zone": zone,
        "plan_codes": plan_codes_check(values.get("plan_codes"), "plan_codes", errors),
    }
    return clean, conflicts


@transaction.atomic
def addon_create(
    *,
    actor: User,
    code: str,
    name: str,
    kind: str,
    price_amount: Decimal | str | None,
    validity_days: int | None,
    currency: str | None = None,
    stackable: bool = False,
    zone: str = "",
    plan_codes: Sequence[str] = (),
    conflicts_with: Sequence[str] = (),
) -> AddOn:
    """Put an add-on on sale. Conflicts are symmetric: if A conflicts with B, B conflicts
    with A, so a line holding either cannot buy the other."""
    errors = FieldErrors()
    code = code_check(code, "code", errors, what="add-on")
    if code and AddOn.objects.filter(code=code).exists():
        errors.add("code", f"An add-on with the code {code!r} already exists.")
    values, conflicts = _addon_values(
        {
            "name": name,
            "kind": kind,
            "price_amount": price_amount,
            "currency": currency,
            "validity_days": validity_days,
            "stackable": stackable,
            "zone": zone,
            "plan_codes": plan_codes,
            "conflicts_with": conflicts_with,
        },
        errors,
        own_code=code,
    )
    errors.raise_if_any("The add-on was not created.")
    try:
        with transaction.atomic():
            addon = AddOn.objects.create(code=code, **values)
    except IntegrityError:
        raise ApplicationError(
            "The add-on was not created.",
            fields={"code": [f"An add-on with the code {code!r} already exists."]},
        ) from None
    _conflicts_set(addon=addon, conflicts=conflicts, actor=actor)
    audit_record(
        actor=actor, instance=addon, action="created", changes=changes_created(_audited(addon))
    )
    return addon


@transaction.atomic
def addon_update(*, addon: AddOn, actor: User, **changes: Any) -> AddOn:
    """Change an add-on on sale; lines that bought it keep what they bought."""
    if unknown := set(changes) - set(ADDON_EDITABLE):
        raise ApplicationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    addon = AddOn.objects.select_for_update().get(pk=addon.pk)
    if addon.status != AddOn.Status.ACTIVE:
        raise InvalidTransition(f"{addon.name} is retired; it no longer changes.")
    current: dict[str, Any] = {
        name: getattr(addon, name) for name in ADDON_EDITABLE if name != "conflicts_with"
    }
    current["conflicts_with"] = list(addon.conflicts_with.values_list("code", flat=True))
    errors = FieldErrors()
    values, conflicts = _addon_values({**current, **changes}, errors, own_code=addon.code)
    errors.raise_if_any("The add-on was not saved.")
    before = _audited(addon)
    changed = [name for name, value in values.items() if getattr(addon, name) != value]
    for name in changed:
        setattr(addon, name, values[name])
    if changed:
        addon.save(update_fields=[*changed, "updated_at"])
    if "conflicts_with" in changes:
        _conflicts_set(addon=addon, conflicts=conflicts, actor=actor)
    if diff := changes_between(before, _audited(addon)):
        audit_record(actor=actor, instance=addon, action="updated", changes=diff)
    return addon


@transaction.atomic
def addon_retire(*, addon: AddOn, actor: User) -> AddOn:
    """Stop selling an add-on; lines that hold it keep it until it expires."""
    updated = AddOn.objects.filter(pk=addon.pk, status=AddOn.Status.ACTIVE).update(
        status=AddOn.Status.RETIRED, updated_at=timezone.now()
    )
    if updated != 1:
        raise InvalidTransition(f"{addon.name} is already retired.")
    addon.refresh_from_db()
    audit_record(
        actor=actor,
        instance=addon,
        action="retired",
        changes={"status": [AddOn.Status.ACTIVE, addon.status]},
    )
    return addon


@transaction.atomic
def addon_allowances_set(
    *, addon: AddOn, actor: User, allowances: Sequence[AllowanceData]
) -> list[Allowance]:
    """Replace what an add-on includes. Add-ons are not versioned: the change applies to
    purchases from now on."""
    addon = AddOn.objects.select_for_update().get(pk=addon.pk)
    if addon.status != AddOn.Status.ACTIVE:
        raise InvalidTransition(f"{addon.name} is retired; its allowances no longer change.")
    return allowances_replace(plan=None, addon=addon, actor=actor, allowances=allowances)
