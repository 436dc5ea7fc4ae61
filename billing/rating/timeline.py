"""How a line's usage finds its tariff: the plan's tariff, and among its published versions the
one in force at each call's time (settings.USAGE_TARIFF_RESOLVER points here).

A chunk of records may span a new version's start (a correction published from a past date, a
price change at midnight), so the engine given to the usage rating dispatches each call to the
version in force at its answer time and says which version rated it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from billing.rating.engine import CallDescriptor, RatingError, RatingResult
from billing.rating.models import TENANT, Category, TariffVersion
from billing.rating.selectors import tariff_engine_for
from billing.usage.lines import Tariff
from orders.catalog.models import PricePlan

CATEGORIES = {
    "voice": Category.CALL.value,
    "sms": Category.SMS.value,
    "mms": Category.MMS.value,
    "data": Category.DATA.value,
}


class VersionedResult:
    """A rating result with the tariff version that produced it."""

    __slots__ = ("result", "version_id")

    def __init__(self, result: RatingResult, version_id: int) -> None:
        self.result = result
        self.version_id = version_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self.result, name)


class TimelineEngine:
    """Rates each call with the tariff version in force at its answer time."""

    def __init__(self, *, tariff_id: int, tariff_code: str) -> None:
        versions = list(
            TariffVersion.objects.filter(tariff_id=tariff_id, status=TariffVersion.Status.PUBLISHED)
            .exclude(valid_from=None)
            .order_by("valid_from", "number")
        )
        self.tariff_code = tariff_code
        self._starts: list[datetime] = [v.valid_from for v in versions if v.valid_from]
        self._versions = versions

    def version_at(self, at: datetime) -> TariffVersion | None:
        index = bisect_right(self._starts, at) - 1
        return self._versions[index] if index >= 0 else None

    def rate_many(self, calls: Iterable[CallDescriptor]) -> list[VersionedResult | RatingError]:
        calls = list(calls)
        results: list[VersionedResult | RatingError | None] = [None] * len(calls)
        by_version: dict[int, list[int]] = defaultdict(list)
        versions: dict[int, TariffVersion] = {}
        for index, call in enumerate(calls):
            version = self.version_at(call.answer_time)
            if version is None:
                results[index] = RatingError(
                    reason="no_tariff_in_force",
                    message=f"no published version of tariff {self.tariff_code} is in force "
                    f"at {call.answer_time.isoformat()}",
                )
                continue
            by_version[version.pk].append(index)
            versions[version.pk] = version
        for version_id, indexes in by_version.items():
            engine = tariff_engine_for(versions[version_id])
            rated = engine.rate_many([calls[i] for i in indexes])
            for index, result in zip(indexes, rated, strict=True):
                results[index] = (
                    result
                    if isinstance(result, RatingError)
                    else VersionedResult(result, version_id)
                )
        return [r for r in results if r is not None]


def usage_tariff_for_plan(*, plan_id: int | None) -> Tariff | None:
    """The tariff that rates a plan's usage beyond allowances and tiers: the rating subject is
    the plan's code (a tariff's rating profiles may price one plan apart, and fall back to
    `*any` for the rest)."""
    if plan_id is None:
        return None
    plan = PricePlan.objects.filter(pk=plan_id).select_related("tariff").first()
    if plan is None or plan.tariff is None:
        return None
    return Tariff(
        version_id=None,
        engine=TimelineEngine(tariff_id=plan.tariff.pk, tariff_code=plan.tariff.code),
        currency=plan.tariff.currency,
        describe=CallDescriptor,
        tenant=TENANT,
        subject=plan.code,
        categories=CATEGORIES,
    )
