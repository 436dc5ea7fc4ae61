"""What the catalog services share: code and zone checks, the transition check, the
allowance rows that plans and add-ons both include, and how the audit log writes them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from common.audit import audit_record
from common.errors import FieldErrors, InvalidTransition
from common.parsing import choice_parse, decimal_parse
from crm.models import User
from orders.catalog.models import AddOn, Allowance, PricePlan, Service

CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
ZONE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9 _-]*$")
QUANTITY_MAX = Decimal("999999999999")
ADDON_MAX_DAYS = 365


# --- shared checks ------------------------------------------------------------------------------


def code_check(raw: str | None, name: str, errors: FieldErrors, *, what: str) -> str:
    code = (raw or "").strip().lower()
    if not code:
        errors.add(name, f"Give the {what} a code, e.g. sim-only-30gb.")
    elif len(code) > 40:
        errors.add(name, "A code has at most 40 characters.")
    elif not CODE_PATTERN.match(code):
        errors.add(name, "Use lower-case letters, digits and single hyphens, e.g. sim-only-30gb.")
    return code


def plan_codes_check(raw: Iterable[str] | None, name: str, errors: FieldErrors) -> list[str]:
    """Plan codes that name existing plans (any version, any status), deduplicated, sorted."""
    codes = sorted({str(code).strip().lower() for code in (raw or []) if str(code).strip()})
    known = set(PricePlan.objects.filter(code__in=codes).values_list("code", flat=True))
    if unknown := [code for code in codes if code not in known]:
        errors.add(name, f"No plan has the code {', '.join(repr(c) for c in unknown)}.")
    return codes


def transition_check(table: dict[str, frozenset[str]], old: str, new: str, what: str) -> None:
    if new not in table[old]:
        raise InvalidTransition(f"{what} is {old}; it cannot become {new}.")


# --- allowances ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllowanceData:
    service: str
    quantity: Decimal | str | None
    scope: str = Allowance.Scope.ALL
    zone: str = ""


def allowance_rows(
    allowances: Sequence[AllowanceData], errors: FieldErrors
) -> list[tuple[str, Decimal, str, str]]:
    rows: list[tuple[str, Decimal, str, str]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, given in enumerate(allowances):
        prefix = f"allowances.{index}."
        service = choice_parse(given.service, f"{prefix}service", errors, Service, "service")
        scope = choice_parse(given.scope, f"{prefix}scope", errors, Allowance.Scope, "scope")
        quantity = decimal_parse(
            given.quantity,
            f"{prefix}quantity",
            errors,
            what="The quantity",
            places=2,
            maximum=QUANTITY_MAX,
            missing="Give the quantity included.",
        )
        if quantity is not None and quantity == 0:
            errors.add(f"{prefix}quantity", "The quantity must be more than 0.")
        zone = (given.zone or "").strip().upper()
        if scope == Allowance.Scope.ZONE and not zone:
            errors.add(f"{prefix}zone", "Name the zone, e.g. EU or US.")
        elif scope != Allowance.Scope.ZONE and zone:
            errors.add(f"{prefix}zone", "A zone is given only with the zone scope.")
        elif zone and (len(zone) > 40 or not ZONE_PATTERN.match(zone)):
            errors.add(f"{prefix}zone", "Use letters and digits, at most 40, e.g. EU.")
        if scope in (Allowance.Scope.ON_NET, Allowance.Scope.OFF_NET) and service == Service.DATA:
            errors.add(f"{prefix}scope", "On-net and off-net apply to voice and SMS, not data.")
        key = (service, scope, zone)
        if key in seen:
            errors.add(
                f"{prefix}service",
                f"Allowance {seen[key] + 1} already includes {Service(service).label} "
                f"({Allowance.Scope(scope).label.lower()}); combine them into one.",
            )
        elif service in Service.values and scope in Allowance.Scope.values:
            seen[key] = index
        if quantity is not None:
            rows.append((service, quantity, scope, zone))
    return rows


def number_label(value: Decimal) -> str:
    """A quantity or price as the audit log shows it: exact, without trailing zeros."""
    return f"{Decimal(value).normalize():f}"


def allowance_labels(allowances: Iterable[Allowance]) -> list[str]:
    """What a plan or add-on includes, one readable line per allowance, sorted so that the same
    allowances in another order are no change: e.g. "voice 500 on_net", "data 1024 zone EU"."""
    return sorted(
        f"{a.service} {number_label(a.quantity)} {a.scope}{f' {a.zone}' if a.zone else ''}"
        for a in allowances
    )


def allowances_replace(
    *,
    plan: PricePlan | None,
    addon: AddOn | None,
    actor: User,
    allowances: Sequence[AllowanceData],
) -> list[Allowance]:
    """Replace what `plan` or `addon` includes and audit the change on it (before and after),
    if there is one."""
    errors = FieldErrors()
    rows = allowance_rows(allowances, errors)
    errors.raise_if_any("The allowances were not saved.")
    owner: PricePlan | AddOn
    if plan is not None:
        owner, existing = plan, Allowance.objects.filter(plan=plan)
    elif addon is not None:
        owner, existing = addon, Allowance.objects.filter(addon=addon)
    else:
        raise ValueError("Allowances belong to a plan or an add-on.")
    before = allowance_labels(existing)
    existing.delete()
    created = Allowance.objects.bulk_create(
        Allowance(plan=plan, addon=addon, service=service, quantity=qty, scope=scope, zone=zone)
        for service, qty, scope, zone in rows
    )
    after = allowance_labels(created)
    if after != before:
        audit_record(
            actor=actor, instance=owner, action="updated", changes={"allowances": [before, after]}
        )
    return created
