"""Every change to tariffs and their versions: create, draft, edit a draft section by section,
publish, retire, import from CGRateS.

A version's content is a whole tariff plan (billing.rating.plan.TariffPlan as JSON). Each edit
changes one row of one section and the result is checked as a whole plan (TariffPlan.validate),
so a draft is never saved in a state that refers to something missing. Each change writes a
TariffVersionEvent (who, when, what, why) in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from billing.rating.cgrates import read_tariff_plan_zip
from billing.rating.engine import DATA, MMS, SMS, VOICE, CallDescriptor, RatingError
from billing.rating.models import TENANT, Category, Tariff, TariffVersion, TariffVersionEvent
from billing.rating.plan import (
    ANY,
    MAX_COST_STRATEGIES,
    ROUNDING_METHODS,
    SECOND,
    PlanError,
    TariffPlan,
)
from billing.rating.selectors import (
    KEY_SEPARATOR,
    Section,
    row_key,
    tariff_engine_for,
    tariff_version_in_force,
)
from common.audit import audit_record, changes_between, changes_created, snapshot
from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.money import Money
from common.parsing import (
    amount_parse,
    currency_parse,
    decimal_parse,
    int_parse,
    reason_parse,
    text_parse,
)
from common.types import UserLike

CODE_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*", re.ASCII)
# CGRateS tag ids: letters, digits, _ - . and a leading * for the built-in ones (*any).
ROW_ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}", re.ASCII)
PREFIX_PATTERN = re.compile(r"\+?[0-9A-Za-z*#]{1,32}", re.ASCII)
TIME_PATTERN = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]", re.ASCII)
TARIFF_AUDITED = ("code", "name", "currency", "description")

# Quantities in a rate: voice in nanoseconds, messages as counts, data in bytes. People write
# "60s", "1m", "1" or "1MB"; a bare number is taken in the base unit.
QUANTITY_PATTERN = re.compile(r"([0-9]{1,15})\s*(ns|ms|s|m|h|B|KB|MB|GB)?", re.ASCII)
QUANTITY_SUFFIXES: dict[str, int] = {
    "ns": 1,
    "ms": SECOND // 1000,
    "s": SECOND,
    "m": 60 * SECOND,
    "h": 3600 * SECOND,
    "B": 1,
    "KB": 1000,  # decimal units, as usage records count data (billing.usage)
    "MB": 1000**2,
    "GB": 1000**3,
}
QUANTITY_MAX = 10**18
QUANTITY_HELP = "e.g. 60s, 1s or 1m for voice; 1 for messages; 1MB or 1KB for data"


def quantity_parse(
    raw: Any, name: str, errors: FieldErrors, *, what: str, minimum: int = 1
) -> int | None:
    """A rate unit, increment or group start in base units, from 60 / "60s" / "1MB"."""
    if isinstance(raw, bool):
        errors.add(name, f"{what} is a quantity, {QUANTITY_HELP}.")
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if not text:
            errors.add(name, f"Give {what.lower()} ({QUANTITY_HELP}).")
            return None
        match = QUANTITY_PATTERN.fullmatch(text)
        if match is None:
            errors.add(name, f"{text!r} is not a quantity; write it {QUANTITY_HELP}.")
            return None
        value = int(match.group(1)) * QUANTITY_SUFFIXES[match.group(2) or "ns"]
    if not minimum <= value < QUANTITY_MAX:
        lowest = "at least 1" if minimum == 1 else "0 or more"
        errors.add(name, f"{what} must be {lowest}.")
        return None
    return value


def _row_id(raw: Any, name: str, errors: FieldErrors, what: str) -> str:
    value = str(raw if raw is not None else "").strip()
    if not value:
        errors.add(name, f"Give the {what} an id, e.g. GB_MOBILE.")
    elif not ROW_ID_PATTERN.fullmatch(value):
        errors.add(name, f"{value!r} is not an id: use up to 64 letters, digits, '_', '-' or '.'.")
    return value


def _reference(raw: Any, name: str, errors: FieldErrors, what: str, *, any_ok: bool) -> str:
    value = str(raw if raw is not None else "").strip()
    if not value:
        errors.add(name, f"Choose the {what}.")
    elif not (any_ok and value == ANY) and not ROW_ID_PATTERN.fullmatch(value):
        errors.add(name, f"{value!r} is not the id of a {what}.")
    return value


def _list(raw: Any) -> list[str]:
    """A list from a list or from text separated by ';', ',' or white space."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part for part in re.split(r"[;,\s]+", raw.strip()) if part]
    return [str(part).strip() for part in raw if str(part).strip()]


def _numbers(
    raw: Any, name: str, errors: FieldErrors, *, minimum: int, maximum: int, what: str
) -> list[int]:
    """Whole numbers in a range; empty or "*any" means any."""
    parts = _list(raw)
    if parts == [ANY]:
        return []
    values: list[int] = []
    for part in parts:
        value = int_parse(part, name, errors, minimum=minimum, maximum=maximum, what=what)
        if value is not None and value not in values:
            values.append(value)
    return sorted(values)


# --- one parser per section: raw values in, a row of TariffPlan.to_dict() out ------------------


def _destination_row(values: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    prefixes: list[str] = []
    for prefix in _list(values.get("prefixes")):
        if not PREFIX_PATTERN.fullmatch(prefix):
            errors.add("prefixes", f"{prefix!r} is not a number prefix (digits, e.g. 447).")
        elif prefix not in prefixes:
            prefixes.append(prefix)
    if not prefixes and "prefixes" not in errors.fields:
        errors.add("prefixes", "Give at least one number prefix, e.g. 447.")
    return {"id": _row_id(values.get("id"), "id", errors, "destination"), "prefixes": prefixes}


@dataclass(frozen=True, slots=True)
class RateSlotData:
    """One group of a rate as typed: from `group_start` into the usage, `price` per
    `rate_unit`, in steps of `rate_increment` (quantities as "60s", "1", "1MB" or base units)."""

    price: Any
    rate_unit: Any
    rate_increment: Any
    group_start: Any = 0
    connect_fee: Any = "0"


def _slot(raw: Any) -> Mapping[str, Any]:
    if isinstance(raw, RateSlotData):
        return {
            "connect_fee": raw.connect_fee,
            "price": raw.price,
            "rate_unit": raw.rate_unit,
            "rate_increment": raw.rate_increment,
            "group_start": raw.group_start,
        }
    if isinstance(raw, Mapping):
        return raw
    raise ApplicationError("A rate group must be given as its fields.", fields={"slots": []})


def _rate_row(values: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    rate_id = _row_id(values.get("id"), "id", errors, "rate")
    connect_fee = amount_parse(
        values.get("connect_fee") or "0", "connect_fee", errors, what="The connect fee"
    )
    slots: list[dict[str, Any]] = []
    raw_slots = list(values.get("slots") or [])
    if not raw_slots:
        errors.add("slots", "Give at least one rate group: its price per unit and increment.")
    for index, raw in enumerate(raw_slots):
        slot = _slot(raw)
        prefix = f"slots.{index}."
        price = amount_parse(
            slot.get("price"),
            f"{prefix}price",
            errors,
            what="The price",
            missing="Give the price per rate unit (0 for free).",
        )
        unit = quantity_parse(slot.get("rate_unit"), f"{prefix}rate_unit", errors, what="The unit")
        increment = quantity_parse(
            slot.get("rate_increment"), f"{prefix}rate_increment", errors, what="The increment"
        )
        start = quantity_parse(
            slot.get("group_start") if slot.get("group_start") not in (None, "") else 0,
            f"{prefix}group_start",
            errors,
            what="The group start",
            minimum=0,
        )
        if price is None or unit is None or increment is None or start is None:
            continue
        slots.append(
            {
                "connect_fee": "0",
                "price": str(price),
                "rate_unit": unit,
                "rate_increment": increment,
                "group_start": start,
            }
        )
    starts = [slot["group_start"] for slot in slots]
    if slots and len(set(starts)) != len(starts):
        errors.add("slots", "Two rate groups start at the same point; each needs its own start.")
    if slots and min(starts) != 0:
        errors.add("slots", "The first rate group must start at 0 (the start of the usage).")
    slots.sort(key=lambda slot: slot["group_start"])
    if slots and connect_fee is not None:
        slots[0]["connect_fee"] = str(connect_fee)  # the connect fee is on the first group
    return {"id": rate_id, "slots": slots}


def _time_of_day(raw: Any, name: str, errors: FieldErrors) -> str:
    value = str(raw or "").strip()
    if value == "*asap":
        return ""
    if len(value) == 5:
        value += ":00"
    if value and not TIME_PATTERN.fullmatch(value):
        errors.add(name, f"{value!r} is not a time of day; use HH:MM or HH:MM:SS.")
    return value


def _timing_row(values: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    start_time = _time_of_day(values.get("start_time"), "start_time", errors)
    if start_time == "00:00:00":
        start_time = ""
    end_time = _time_of_day(values.get("end_time"), "end_time", errors)
    if start_time and end_time and end_time <= start_time:
        errors.add("end_time", "The band must end after it starts (empty: at midnight).")
    week_days = _numbers(
        values.get("week_days"), "week_days", errors, minimum=0, maximum=7, what="A week day"
    )
    return {
        "id": _row_id(values.get("id"), "id", errors, "time band"),
        "years": _numbers(
            values.get("years"), "years", errors, minimum=1970, maximum=2999, what="A year"
        ),
        "months": _numbers(
            values.get("months"), "months", errors, minimum=1, maximum=12, what="A month"
        ),
        "month_days": _numbers(
            values.get("month_days"), "month_days", errors, minimum=1, maximum=31, what="A day"
        ),
        "week_days": sorted({7 if day == 0 else day for day in week_days}),
        "start_time": start_time,
        "end_time": end_time,
    }


def _destination_rate_row(values: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    method = str(values.get("rounding_method") or "*up")
    if method not in ROUNDING_METHODS:
        errors.add(
            "rounding_method", f"{method!r} is not a rounding method; use *up, *middle or *down."
        )
    strategy = str(values.get("max_cost_strategy") or "")
    if strategy not in MAX_COST_STRATEGIES:
        errors.add(
            "max_cost_strategy",
            f"{strategy!r} is not a maximum cost rule; use *free, *disconnect or none.",
        )
    decimals = int_parse(
        values.get("rounding_decimals", 4),
        "rounding_decimals",
        errors,
        minimum=0,
        maximum=10,
        what="The rounding decimals",
    )
    max_cost = amount_parse(
        values.get("max_cost") or "0", "max_cost", errors, what="The maximum cost"
    )
    if strategy and max_cost is not None and max_cost == 0:
        errors.add("max_cost", "Give the maximum cost the rule applies from.")
    return {
        "id": _row_id(values.get("id"), "id", errors, "destination rate"),
        "destination_id": _reference(
            values.get("destination_id"), "destination_id", errors, "destination", any_ok=True
        ),
        "rate_id": _reference(values.get("rate_id"), "rate_id", errors, "rate", any_ok=False),
        "rounding_method": method,
        "rounding_decimals": decimals if decimals is not None else 4,
        "max_cost": str(max_cost if max_cost is not None else Decimal("0")),
        "max_cost_strategy": strategy,
    }


def _rating_plan_row(values: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    weight = decimal_parse(
        values.get("weight") or "0",
        "weight",
        errors,
        what="The weight",
        places=4,
        maximum=Decimal("1000000"),
    )
    return {
        "rating_plan_id": _row_id(values.get("rating_plan_id"), "rating_plan_id", errors, "plan"),
        "destination_rates_id": _reference(
            values.get("destination_rates_id"),
            "destination_rates_id",
            errors,
            "destination rates",
            any_ok=False,
        ),
        "timing_id": _reference(
            values.get("timing_id") or ANY, "timing_id", errors, "time band", any_ok=True
        ),
        "weight": str(weight if weight is not None else Decimal("0")),
    }


def _rating_profile_row(values: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    category = str(values.get("category") or "")
    if category not in Category.values:
        errors.add("category", f"{category!r} is not a category; use {', '.join(Category.values)}.")
    subject = str(values.get("subject") or "").strip()
    if not subject:
        errors.add("subject", "Give the subject: *any for everyone, or a plan code or number.")
    elif len(subject) > 64 or not re.fullmatch(r"[A-Za-z0-9_.\-+*]+", subject, re.ASCII):
        errors.add("subject", f"{subject!r} is not a subject (letters, digits, + - _ . *).")
    raw_time = values.get("activation_time")
    activation: datetime | None = None
    if isinstance(raw_time, datetime):
        activation = raw_time
    elif raw_time:
        try:
            activation = datetime.fromisoformat(str(raw_time).strip().replace("Z", "+00:00"))
        except ValueError:
            errors.add(
                "activation_time",
                f"{raw_time!r} is not a date and time; use e.g. 2026-01-01T00:00:00Z.",
            )
    else:
        errors.add("activation_time", "Give the time from which the profile applies.")
    if activation is not None and timezone.is_naive(activation):
        activation = timezone.make_aware(activation)
    tenant = str(values.get("tenant") or TENANT).strip()
    if not ROW_ID_PATTERN.fullmatch(tenant):
        errors.add("tenant", f"{tenant!r} is not a tenant.")
    fallbacks = _list(values.get("fallback_subjects"))
    return {
        "tenant": tenant,
        "category": category,
        "subject": subject,
        "activation_time": activation.isoformat() if activation else "",
        "rating_plan_id": _reference(
            values.get("rating_plan_id"), "rating_plan_id", errors, "rating plan", any_ok=False
        ),
        "fallback_subjects": fallbacks,
    }


SECTION_PARSERS: dict[str, Callable[[Mapping[str, Any], FieldErrors], dict[str, Any]]] = {
    Section.DESTINATIONS: _destination_row,
    Section.RATES: _rate_row,
    Section.TIMINGS: _timing_row,
    Section.DESTINATION_RATES: _destination_rate_row,
    Section.RATING_PLANS: _rating_plan_row,
    Section.RATING_PROFILES: _rating_profile_row,
}


# --- tariffs ------------------------------------------------------------------------------------


def _event(
    version: TariffVersion,
    *,
    actor: UserLike,
    action: str,
    summary: str = "",
    reason: str = "",
    old_status: str = "",
    new_status: str = "",
) -> TariffVersionEvent:
    return TariffVersionEvent.objects.create(
        version=version,
        action=action,
        summary=summary[:300],
        actor=actor,
        reason=reason[:200],
        old_status=old_status,
        new_status=new_status,
        created_at=timezone.now(),
    )


@transaction.atomic
def tariff_create(
    *,
    actor: UserLike,
    code: str,
    name: str,
    currency: str | None = None,
    description: str = "",
    reason: str = "",
) -> Tariff:
    """A new tariff with an empty draft version 1: nothing rates with it until a version with
    at least one rating profile is published."""
    errors = FieldErrors()
    code = (code or "").strip().lower()
    if not code:
        errors.add("code", "Give the tariff a code, e.g. postpaid-standard.")
    elif len(code) > 40 or not CODE_PATTERN.fullmatch(code):
        errors.add(
            "code", "Use up to 40 lower-case letters, digits and single hyphens, e.g. payg-uk."
        )
    elif Tariff.objects.filter(code=code).exists():
        errors.add("code", f"A tariff with the code {code!r} already exists.")
    name = text_parse(name, "name", errors, limit=120, missing="Name the tariff.")
    currency = currency_parse(currency, errors)
    description = text_parse(description, "description", errors, limit=2000)
    errors.raise_if_any("The tariff was not created.")
    try:
        with transaction.atomic():
            tariff = Tariff.objects.create(
                code=code, name=name, currency=currency, description=description, created_by=actor
            )
    except IntegrityError:  # the same code created by someone else at the same moment
        raise ApplicationError(
            "The tariff was not created.",
            fields={"code": [f"A tariff with the code {code!r} already exists."]},
        ) from None
    audit_record(
        actor=actor,
        instance=tariff,
        action="created",
        changes=changes_created(snapshot(tariff, TARIFF_AUDITED)),
        reason=reason[:200],
    )
    version = TariffVersion.objects.create(
        tariff=tariff, number=1, content=TariffPlan().to_dict(), created_by=actor
    )
    _event(version, actor=actor, action="created", new_status=version.status, reason=reason)
    return tariff


@transaction.atomic
def tariff_update(
    *, tariff: Tariff, actor: UserLike, name: str, description: str = "", reason: str
) -> Tariff:
    """Rename a tariff or rewrite its description (audited with the reason). Its code and
    currency stay: plans and imported profiles name the code, and every version's prices are
    in the currency."""
    errors = FieldErrors()
    name = text_parse(name, "name", errors, limit=120, missing="Name the tariff.")
    description = text_parse(description, "description", errors, limit=2000)
    reason = text_parse(reason, "reason", errors, limit=200, missing="Say why it changes.")
    errors.raise_if_any("The tariff was not changed.")
    locked = Tariff.objects.select_for_update().get(pk=tariff.pk)
    before = snapshot(locked, TARIFF_AUDITED)
    if (locked.name, locked.description) == (name, description):
        return locked
    locked.name, locked.description = name, description
    locked.save(update_fields=["name", "description", "updated_at"])
    audit_record(
        actor=actor,
        instance=locked,
        action="updated",
        changes=changes_between(before, snapshot(locked, TARIFF_AUDITED)),
        reason=reason,
    )
    return locked


def _versions_locked(tariff: Tariff) -> list[TariffVersion]:
    return list(TariffVersion.objects.select_for_update().filter(tariff=tariff).order_by("pk"))


def _version_locked(version: TariffVersion) -> TariffVersion:
    """Lock every version of the tariff, in pk order, and return `version` fresh."""
    versions = _versions_locked(version.tariff)
    return next(v for v in versions if v.pk == version.pk)


def _require_draft(version: TariffVersion) -> None:
    if version.status != TariffVersion.Status.DRAFT:
        raise InvalidTransition(
            f"Version {version.number} of {version.tariff.code} is {version.status}: a "
            "published or retired version never changes (what it rated must stay explainable). "
            "Make a new draft from it instead."
        )


def _new_draft(
    tariff: Tariff,
    *,
    actor: UserLike,
    content: dict[str, Any],
    action: str,
    summary: str,
    reason: str,
    notes: str = "",
) -> TariffVersion:
    versions = _versions_locked(tariff)
    if draft := next((v for v in versions if v.status == TariffVersion.Status.DRAFT), None):
        raise ApplicationError(
            f"Draft version {draft.number} of {tariff.code} already exists; edit it, or retire "
            "it first.",
            code="conflict",
        )
    last = TariffVersion.objects.filter(tariff=tariff).aggregate(last=Max("number"))["last"]
    version = TariffVersion.objects.create(
        tariff=tariff, number=(last or 0) + 1, content=content, created_by=actor, notes=notes
    )
    _event(
        version,
        actor=actor,
        action=action,
        summary=summary,
        reason=reason,
        new_status=version.status,
    )
    return version


@transaction.atomic
def tariff_version_draft(*, tariff: Tariff, actor: UserLike, reason: str = "") -> TariffVersion:
    """A new draft copied from the latest version: how a published tariff is corrected. Only
    one draft per tariff exists at a time, so two people never prepare competing changes."""
    latest = TariffVersion.objects.filter(tariff=tariff).order_by("-number").first()
    content = dict(latest.content) if latest else TariffPlan().to_dict()
    summary = f"Copied from version {latest.number}." if latest else "Empty."
    return _new_draft(
        tariff, actor=actor, content=content, action="created", summary=summary, reason=reason
    )


def _apply(
    content: Mapping[str, Any], section: str, row: dict[str, Any] | None, key: str | None
) -> dict[str, Any]:
    """The content with the row whose key is `key` replaced by `row` (or removed when row is
    None, or appended when key is None)."""
    rows = [dict(r) for r in content.get(section, [])]
    if key is not None:
        index = next((i for i, r in enumerate(rows) if row_key(section, r) == key), None)
        if index is None:
            raise ApplicationError(
                f"{Section.LABELS[section]} has no row {key!r}; it may have been changed by "
                "someone else. Reload the page.",
                code="not_found",
            )
        if row is None:
            del rows[index]
        else:
            rows[index] = row
    elif row is not None:
        rows.append(row)
    return {**content, section: rows}


def _check_plan(content: dict[str, Any], what: str) -> TariffPlan:
    try:
        return TariffPlan.from_dict(content)
    except PlanError as error:
        raise ApplicationError(
            f"{what} {error}", code="invalid_plan", fields={"non_field_errors": [str(error)]}
        ) from None


def _describe(section: str, key: str) -> str:
    return f"{Section.LABELS[section]} {key.replace(KEY_SEPARATOR, ' / ')}"


@transaction.atomic
def tariff_version_row_save(
    *,
    version: TariffVersion,
    actor: UserLike,
    section: str,
    values: Mapping[str, Any],
    original_key: str | None = None,
    reason: str = "",
) -> TariffVersion:
    """Add a row to one section of a draft (or change the row `original_key`), then check the
    whole plan: a row that refers to something missing is refused, naming it."""
    if section not in SECTION_PARSERS:
        raise ApplicationError(f"{section!r} is not a section of a tariff plan.")
    version = _version_locked(version)
    _require_draft(version)
    errors = FieldErrors()
    row = SECTION_PARSERS[section](values, errors)
    errors.raise_if_any("The row was not saved.")
    key = row_key(section, row)
    taken = {row_key(section, r) for r in version.content.get(section, [])}
    if key != original_key and key in taken:
        field = "id" if section in (Section.DESTINATIONS, Section.RATES, Section.TIMINGS) else None
        message = f"{_describe(section, key)} already exists; change that row instead."
        raise ApplicationError(
            "The row was not saved.",
            code="conflict_row",
            fields={field or "non_field_errors": [message]},
        )
    content = _apply(version.content, section, row, original_key)
    version.content = _check_plan(content, "The row was not saved:").to_dict()
    version.save(update_fields=["content", "updated_at"])
    verb = "added" if original_key is None else "changed"
    summary = f"{_describe(section, key)} {verb}."
    if original_key is not None and original_key != key:
        summary = f"{_describe(section, original_key)} changed to {key}."
    _event(version, actor=actor, action="edited", summary=summary, reason=reason)
    return version


@transaction.atomic
def tariff_version_row_remove(
    *, version: TariffVersion, actor: UserLike, section: str, key: str, reason: str = ""
) -> TariffVersion:
    """Remove one row of a draft; refused while another row still refers to it."""
    if section not in SECTION_PARSERS:
        raise ApplicationError(f"{section!r} is not a section of a tariff plan.")
    version = _version_locked(version)
    _require_draft(version)
    content = _apply(version.content, section, None, key)
    try:
        plan = TariffPlan.from_dict(content)
    except PlanError as error:
        message = (
            f"{_describe(section, key)} is still used ({error}); change or remove that row first."
        )
        raise ApplicationError(
            message, code="row_in_use", fields={"non_field_errors": [message]}
        ) from None
    version.content = plan.to_dict()
    version.save(update_fields=["content", "updated_at"])
    _event(
        version,
        actor=actor,
        action="edited",
        summary=f"{_describe(section, key)} removed.",
        reason=reason,
    )
    return version


@transaction.atomic
def tariff_version_content_replace(
    *, version: TariffVersion, actor: UserLike, plan: TariffPlan, summary: str, reason: str = ""
) -> TariffVersion:
    """Replace a draft's whole plan (an import, or a tariff built in code such as the demo)."""
    version = _version_locked(version)
    _require_draft(version)
    content = plan.to_dict()
    _check_plan(content, "The tariff plan was not saved:")
    version.content = content
    version.save(update_fields=["content", "updated_at"])
    _event(version, actor=actor, action="replaced", summary=summary, reason=reason)
    return version


@transaction.atomic
def tariff_version_notes_update(
    *, version: TariffVersion, actor: UserLike, notes: str
) -> TariffVersion:
    version = _version_locked(version)
    _require_draft(version)
    errors = FieldErrors()
    notes = text_parse(notes, "notes", errors, limit=2000)
    errors.raise_if_any("The notes were not saved.")
    version.notes = notes
    version.save(update_fields=["notes", "updated_at"])
    _event(version, actor=actor, action="edited", summary="Notes changed.")
    return version


def tariff_plan_completeness(plan: TariffPlan) -> list[str]:
    """What a plan lacks before it can rate anything (empty: it is complete)."""
    missing = []
    if not plan.rating_profiles:
        missing.append("at least one rating profile (who is rated by which rating plan)")
    if not plan.rating_plans:
        missing.append("at least one rating plan row (destination rates in a time band)")
    return missing


@transaction.atomic
def tariff_version_publish(
    *,
    version: TariffVersion,
    actor: UserLike,
    reason: str,
    valid_from: datetime | None = None,
) -> TariffVersion:
    """Put a draft in force from `valid_from` (now when not given). Nothing is retired: the
    timeline picks, for a call at time t, the published version with the latest valid_from at
    or before t, so an earlier version keeps rating the calls made before this one starts."""
    reason = reason_parse(reason)
    version = _version_locked(version)
    if TariffVersion.Status.PUBLISHED not in TariffVersion.TRANSITIONS[version.status]:
        raise InvalidTransition(
            f"Version {version.number} of {version.tariff.code} is {version.status}; only a "
            "draft is published."
        )
    now = timezone.now()
    # "Now" is the start of this minute: the minute people read and type times in.
    valid_from = valid_from or now.replace(second=0, microsecond=0)
    if timezone.is_naive(valid_from):
        raise ApplicationError(
            "The start is not valid.",
            fields={"valid_from": ["Give the start with its time zone."]},
        )
    errors = FieldErrors()
    plan = _check_plan(version.content, "The version was not published:")
    if missing := tariff_plan_completeness(plan):
        errors.add("non_field_errors", f"The tariff plan needs {' and '.join(missing)}.")
    clash = TariffVersion.objects.filter(
        tariff=version.tariff, status=TariffVersion.Status.PUBLISHED, valid_from=valid_from
    ).first()
    if clash is not None:
        errors.add(
            "valid_from",
            f"Version {clash.number} is in force from the same moment; choose another start.",
        )
    errors.raise_if_any("The version was not published.")
    old_status = version.status
    version.status = TariffVersion.Status.PUBLISHED
    version.valid_from = valid_from
    version.published_at = now
    version.published_by = actor
    version.save(
        update_fields=["status", "valid_from", "published_at", "published_by", "updated_at"]
    )
    _event(
        version,
        actor=actor,
        action="published",
        summary=f"In force from {valid_from.isoformat()}.",
        reason=reason,
        old_status=old_status,
        new_status=version.status,
    )
    return version


@transaction.atomic
def tariff_version_retire(*, version: TariffVersion, actor: UserLike, reason: str) -> TariffVersion:
    """Take a version off the timeline (or discard a draft). Calls it would have rated are
    rated by the version before it; usage it already rated keeps its charge."""
    reason = reason_parse(reason)
    version = _version_locked(version)
    if TariffVersion.Status.RETIRED not in TariffVersion.TRANSITIONS[version.status]:
        raise InvalidTransition(
            f"Version {version.number} of {version.tariff.code} is already retired."
        )
    old_status = version.status
    version.status = TariffVersion.Status.RETIRED
    version.save(update_fields=["status", "updated_at"])
    _event(
        version,
        actor=actor,
        action="retired",
        reason=reason,
        old_status=old_status,
        new_status=version.status,
    )
    return version


@transaction.atomic
def tariff_import_cgrates(
    *, tariff: Tariff, actor: UserLike, archive: IO[bytes] | bytes, reason: str
) -> TariffVersion:
    """A new draft of `tariff` holding the tariff plan of an uploaded CGRateS folder (zipped),
    so an operator migrating from CGRateS can check its costs here before publishing. A file
    that cannot be read is refused whole, naming the file, line and column."""
    reason = reason_parse(reason)
    try:
        plan = read_tariff_plan_zip(archive)
    except PlanError as error:
        raise ApplicationError(
            f"The CGRateS tariff plan was not imported: {error}",
            code="invalid_plan",
            fields={"archive": [str(error)]},
        ) from None
    return _new_draft(
        tariff,
        actor=actor,
        content=plan.to_dict(),
        action="imported",
        summary=(
            f"Imported from CGRateS: {len(plan.destinations)} destinations, {len(plan.rates)} "
            f"rates, {len(plan.rating_profiles)} rating profiles."
        ),
        reason=reason,
    )


# --- what would this cost ---------------------------------------------------------------------

TYPE_OF_RECORD: dict[str, str] = {
    Category.CALL: VOICE,
    Category.SMS: SMS,
    Category.MMS: MMS,
    Category.DATA: DATA,
}


# The largest usage a quote rates (a call is split at every band change: bound the work).
QUOTE_LIMITS: dict[str, tuple[int, str]] = {
    Category.CALL: (48 * 3600 * SECOND, "48 hours"),
    Category.SMS: (1000, "1,000 messages"),
    Category.MMS: (1000, "1,000 messages"),
    Category.DATA: (1000**4, "1 TB"),
}
QUOTE_YEARS = (1970, 2100)


@dataclass(frozen=True, slots=True)
class Quote:
    cost: Money
    version: TariffVersion
    result: dict[str, Any]  # RatingResult.to_dict(): subject used, destination, trace …


def rating_quote(
    *,
    tariff: Tariff,
    category: str,
    destination: str,
    answer_time: datetime,
    usage: int,
    subject: str = ANY,
    cgrates_decimals: int | None = None,
) -> Quote:
    """What a usage would cost on `tariff` at `answer_time`: rated by the version in force then,
    exactly as usage is rated. No version in force, an unknown subject or destination is an
    error with its reason, never a zero cost."""
    if category not in TYPE_OF_RECORD:
        raise ApplicationError(
            "The quote was not made.",
            fields={"category": [f"Use one of {', '.join(Category.values)}."]},
        )
    if timezone.is_naive(answer_time):
        raise ApplicationError(
            "The quote was not made.", fields={"answer_time": ["Give the time zone."]}
        )
    if not QUOTE_YEARS[0] <= answer_time.year <= QUOTE_YEARS[1]:
        raise ApplicationError(
            "The quote was not made.",
            fields={"answer_time": [f"Give a time from {QUOTE_YEARS[0]} to {QUOTE_YEARS[1]}."]},
        )
    limit, limit_label = QUOTE_LIMITS[category]
    if not 0 <= usage <= limit:
        raise ApplicationError(
            "The quote was not made.",
            fields={"usage": [f"A quote rates from nothing up to {limit_label}."]},
        )
    version = tariff_version_in_force(tariff=tariff, at=answer_time)
    if version is None:
        raise ApplicationError(
            f"No version of the tariff {tariff.code} is in force at {answer_time.isoformat()}.",
            code="no_tariff_in_force",
        )
    engine = tariff_engine_for(version, cgrates_decimals=cgrates_decimals)
    call = CallDescriptor(
        tenant=TENANT,
        category=category,
        subject=subject or ANY,
        destination=destination,
        answer_time=answer_time,
        usage=usage,
        tor=TYPE_OF_RECORD[category],
    )
    try:
        result = engine.rate(call)
    except RatingError as error:
        raise ApplicationError(
            f"Version {version.number} of {tariff.code} cannot rate this: {error.message}.",
            code=error.reason,
        ) from None
    return Quote(Money(result.cost, tariff.currency), version, result.to_dict())
