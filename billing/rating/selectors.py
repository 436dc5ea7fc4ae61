"""Reads of tariffs: lists, one tariff or version (404 otherwise), the version in force at a
moment, a version's tables as people read them, and the rating engine of a version."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Case, Count, Prefetch, QuerySet, When
from django.shortcuts import get_object_or_404

from billing.rating.cgrates import tariff_plan_zip
from billing.rating.engine import RatingEngine
from billing.rating.models import Category, Tariff, TariffVersion, TariffVersionEvent
from billing.rating.plan import SECOND, TariffPlan
from orders.catalog.models import PricePlan

KEY_SEPARATOR = "|"
KB = 1000  # data in decimal units, as usage records count it (billing.usage)
MB = 1000 * KB


class Section:
    """The six tables of a tariff plan, named as in TariffPlan.to_dict()."""

    DESTINATIONS = "destinations"
    RATES = "rates"
    TIMINGS = "timings"
    DESTINATION_RATES = "destination_rates"
    RATING_PLANS = "rating_plans"
    RATING_PROFILES = "rating_profiles"

    LABELS: dict[str, str] = {
        DESTINATIONS: "Destinations",
        RATES: "Rates",
        TIMINGS: "Time bands",
        DESTINATION_RATES: "Destination rates",
        RATING_PLANS: "Rating plans",
        RATING_PROFILES: "Rating profiles",
    }
    ALL: tuple[str, ...] = tuple(LABELS)


def row_key(section: str, row: Mapping[str, Any]) -> str:
    """What identifies a row within its section (several columns for the binding tables)."""
    if section == Section.DESTINATION_RATES:
        parts = [row["id"], row["destination_id"]]
    elif section == Section.RATING_PLANS:
        parts = [row["rating_plan_id"], row["destination_rates_id"], row["timing_id"]]
    elif section == Section.RATING_PROFILES:
        parts = [row["tenant"], row["category"], row["subject"], row["activation_time"]]
    else:
        parts = [row["id"]]
    return KEY_SEPARATOR.join(str(part) for part in parts)


def tariff_list() -> QuerySet[Tariff]:
    return Tariff.objects.annotate(version_count=Count("versions")).order_by("code")


def tariff_of_plan(code: str) -> Tariff | None:
    """The tariff of the plan code's version on sale (else its newest version); None when the
    plan does not exist or has no tariff."""
    plan = (
        PricePlan.objects.filter(code=code)
        .select_related("tariff")
        .order_by(Case(When(status=PricePlan.Status.PUBLISHED, then=0), default=1), "-version")
        .first()
    )
    return plan.tariff if plan is not None else None


def plan_codes_with_tariff() -> list[tuple[str, str]]:
    """(plan code, plan name) of every plan that refers to a tariff."""
    names: dict[str, str] = {}
    rows = PricePlan.objects.exclude(tariff=None).order_by("code", "-version")
    for code, name in rows.values_list("code", "name"):
        names.setdefault(code, name)
    return sorted(names.items())


def tariff_codes() -> list[tuple[str, str]]:
    """(code, name) of every tariff, for choosing one."""
    return list(Tariff.objects.order_by("code").values_list("code", "name"))


def tariff_get(code: str) -> Tariff:
    """The tariff with this code, with its versions newest first; 404 when there is none."""
    versions = TariffVersion.objects.select_related("published_by").order_by("-number")
    return get_object_or_404(
        Tariff.objects.prefetch_related(Prefetch("versions", queryset=versions)), code=code
    )


def tariff_version_get(public_id: UUID) -> TariffVersion:
    return get_object_or_404(
        TariffVersion.objects.select_related("tariff", "published_by", "created_by"),
        public_id=public_id,
    )


def tariff_version_events(version: TariffVersion) -> QuerySet[TariffVersionEvent]:
    return version.events.select_related("actor").order_by("-created_at", "-pk")


def tariff_version_draft_of(tariff: Tariff) -> TariffVersion | None:
    return tariff.versions.filter(status=TariffVersion.Status.DRAFT).first()


def tariff_version_in_force(*, tariff: Tariff, at: datetime) -> TariffVersion | None:
    """The published version with the latest valid_from at or before `at`: the one that rates
    a call made then (None before the first one starts)."""
    return (
        TariffVersion.objects.filter(
            tariff=tariff, status=TariffVersion.Status.PUBLISHED, valid_from__lte=at
        )
        .order_by("-valid_from", "-number")
        .first()
    )


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    version: TariffVersion
    valid_from: datetime
    valid_until: datetime | None  # when the next version takes over (None: still in force)


def tariff_timeline(tariff: Tariff) -> list[TimelineEntry]:
    """The published versions in the order they take over from each other."""
    published = list(
        TariffVersion.objects.filter(tariff=tariff, status=TariffVersion.Status.PUBLISHED)
        .exclude(valid_from=None)
        .order_by("valid_from", "number")
    )
    entries = []
    for index, version in enumerate(published):
        following = published[index + 1] if index + 1 < len(published) else None
        assert version.valid_from is not None
        entries.append(
            TimelineEntry(version, version.valid_from, following.valid_from if following else None)
        )
    return entries


# --- a version's tables as people read them ---------------------------------------------------


def quantity_label(value: int, kind: str) -> str:
    """A quantity in its base unit as people write it: 60s, 1MB, 1 (and back: services parse
    these)."""
    if kind == Category.CALL:
        if value % SECOND == 0:
            return f"{value // SECOND}s"
        if value % (SECOND // 1000) == 0:
            return f"{value // (SECOND // 1000)}ms"
        return f"{value}ns"
    if kind == Category.DATA:
        if value and value % MB == 0:
            return f"{value // MB}MB"
        if value and value % KB == 0:
            return f"{value // KB}KB"
        return f"{value}B"
    return str(value)


def rate_kinds(content: dict[str, Any]) -> dict[str, str]:
    """What each rate prices, found through the profiles that lead to it: call, data or a
    message category ("" when unused or used for several kinds)."""
    by_plan: dict[str, set[str]] = defaultdict(set)
    for profile in content.get("rating_profiles", []):
        category = profile["category"]
        kind = Category.SMS if category in (Category.SMS, Category.MMS) else category
        by_plan[profile["rating_plan_id"]].add(kind)
    by_destination_rates: dict[str, set[str]] = defaultdict(set)
    for binding in content.get("rating_plans", []):
        by_destination_rates[binding["destination_rates_id"]] |= by_plan[binding["rating_plan_id"]]
    by_rate: dict[str, set[str]] = defaultdict(set)
    for row in content.get("destination_rates", []):
        by_rate[row["rate_id"]] |= by_destination_rates[row["id"]]
    return {rate: next(iter(kinds)) for rate, kinds in by_rate.items() if len(kinds) == 1}


def _days(values: list[int], names: dict[int, str] | None = None) -> str:
    if not values:
        return "any"
    return ", ".join(names.get(v, str(v)) if names else str(v) for v in values)


WEEK_DAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun", 0: "Sun"}
ROUNDING_LABELS = {"*up": "up", "*middle": "half-up", "*down": "down"}
MAX_COST_LABELS = {"": "", "*free": "the rest is free", "*disconnect": "disconnect"}


def tariff_version_tables(version: TariffVersion) -> dict[str, list[dict[str, Any]]]:
    """Every section of the version's plan, each row with its key and readable labels."""
    content = version.content or {}
    kinds = rate_kinds(content)
    tables: dict[str, list[dict[str, Any]]] = {}
    for section in Section.ALL:
        rows = []
        for row in content.get(section, []):
            shown = dict(row)
            shown["key"] = row_key(section, row)
            if section == "rates":
                kind = kinds.get(row["id"], "")
                shown["kind"] = kind
                shown["slots"] = [
                    {
                        **slot,
                        "rate_unit_label": quantity_label(slot["rate_unit"], kind),
                        "rate_increment_label": quantity_label(slot["rate_increment"], kind),
                        "group_start_label": quantity_label(slot["group_start"], kind),
                    }
                    for slot in row["slots"]
                ]
                shown["connect_fee"] = row["slots"][0]["connect_fee"] if row["slots"] else "0"
            elif section == "timings":
                shown["week_days_label"] = _days(row["week_days"], WEEK_DAYS)
                shown["years_label"] = _days(row["years"])
                shown["months_label"] = _days(row["months"])
                shown["month_days_label"] = _days(row["month_days"])
            elif section == "destination_rates":
                shown["rounding_label"] = ROUNDING_LABELS.get(row["rounding_method"], "")
                shown["max_cost_label"] = MAX_COST_LABELS.get(row["max_cost_strategy"], "")
            rows.append(shown)
        tables[section] = rows
    return tables


# --- engines and exports ------------------------------------------------------------------------

_ENGINES: dict[tuple[int, int | None], RatingEngine] = {}
ENGINE_CACHE_SIZE = 64


def tariff_engine_for(
    version: TariffVersion, *, cgrates_decimals: int | None = None
) -> RatingEngine:
    """The rating engine of a published version, built once per process and kept: a published
    version never changes, so its engine (prefix tables, bands, memoised results) stays right.
    A draft is built afresh every time (it changes under edit)."""
    key = (version.pk, cgrates_decimals)
    published = version.status != TariffVersion.Status.DRAFT
    if published and (engine := _ENGINES.get(key)) is not None:
        return engine
    engine = RatingEngine(
        TariffPlan.from_dict(version.content),
        time_zone=settings.TIME_ZONE,
        cgrates_decimals=cgrates_decimals,
    )
    if published:
        if len(_ENGINES) >= ENGINE_CACHE_SIZE:
            _ENGINES.pop(next(iter(_ENGINES)))
        _ENGINES[key] = engine
    return engine


def tariff_version_export(version: TariffVersion) -> tuple[str, bytes]:
    """The version as a zip of a CGRateS tariff-plan folder: (file name, content)."""
    content = tariff_plan_zip(TariffPlan.from_dict(version.content))
    return f"{version.tariff.code}-v{version.number}-cgrates.zip", content
