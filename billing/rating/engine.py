"""The rating engine: what a call, an SMS or a data session costs under a `TariffPlan`.

It rates the way CGRateS does (engine/calldesc.go, timespans.go, rateinterval.go), so a plan
imported from CGRateS gives the same costs:

1. The rating profile of (tenant, category, subject) active at the answer time picks the rating
   plan; a subject without any profile falls back to the `*any` subject; a destination the plan
   does not rate is tried on the profile's fallback subjects in turn (at most three levels).
   A rating profile activated during a call rates the rest of the call (voice only).
2. In the rating plan the destination is the longest prefix of the number among the destinations
   the plan has rates for; a plan's `*any` destination rates every other number.
3. A voice call is split at every local midnight, at every change of time band and at the start
   of every rate group; among the rate intervals active at an instant the highest weight wins,
   then the timing that started most recently. SMS, MMS and data are rated whole, by the band
   active at their start (group starts still split them).
4. Each part is rounded up to a multiple of its rate increment; a part that grows so overlaps
   the following parts, which lose what it covers (so the rated usage may exceed the usage).
5. The connect fee of the first part's rate is charged once per call; a `*free` maximum cost
   caps the running cost (the rest is free), `*disconnect` does not cap it (it is the limit at
   which the call would have been cut, reported in the trace).
6. The total is rounded once, with the method and decimals of the part with the most decimals.

By default every amount is exact (rational arithmetic, rounded once at the end). With
`cgrates_decimals=N` the engine reproduces CGRateS's own arithmetic: each part's cost is divided
into its increments, each increment's cost rounded half-up at N decimals (CGRateS's
"rounding_decimals", 5 by default), the part's cost rounded again at N, and the maximum cost
compared against CGRateS's accumulated `MaxCostSoFar`, so costs match CGRateS to the last digit.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.rating.plan import (
    ANY,
    MAX_COST_DISCONNECT,
    MAX_COST_FREE,
    ROUNDING_DOWN,
    ROUNDING_HALF_UP,
    ROUNDING_UP,
    DestinationRate,
    Rate,
    RateSlot,
    TariffPlan,
    Timing,
)

VOICE = "*voice"
SMS = "*sms"
MMS = "*mms"
DATA = "*data"
TORS = (VOICE, SMS, MMS, DATA)

MAX_FALLBACK_DEPTH = 3  # CGRateS's RECURSION_MAX_DEPTH
DAY_SECONDS = 86_400
_BUCKET_NS = 900 * 1_000_000_000  # 15 minutes: every UTC offset is a multiple, so a bucket
# never straddles a local midnight
_MEMO_LIMIT = 500_000
_FOREVER = -(2**62)


class RatingError(Exception):
    """Why a usage cannot be rated; `reason` is machine-readable."""

    def __init__(self, *, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message}

    def __repr__(self) -> str:
        return f"RatingError(reason={self.reason!r}, message={self.message!r})"


@dataclass(frozen=True, slots=True)
class CallDescriptor:
    """One usage to rate. `usage` is in base units: nanoseconds for voice, messages for SMS and
    MMS, bytes for data; `tor` says which (CGRateS's "type of record")."""

    tenant: str
    category: str
    subject: str
    destination: str
    answer_time: datetime
    usage: int
    tor: str = VOICE


# --- compiled plan -------------------------------------------------------------------------


class _Interval:
    """A destination-rate row bound by a rating plan under a timing with a weight."""

    __slots__ = (
        "connect_fee",
        "destination_rate",
        "end_s",
        "group_starts",
        "max_cost",
        "month_days",
        "months",
        "rate",
        "rating_plan_id",
        "slots",
        "start_s",
        "timing",
        "uid",
        "week_days",
        "weight",
        "years",
    )

    def __init__(
        self,
        uid: int,
        rating_plan_id: str,
        destination_rate: DestinationRate,
        rate: Rate,
        timing: Timing,
        weight: Decimal,
    ) -> None:
        self.uid = uid
        self.rating_plan_id = rating_plan_id
        self.destination_rate = destination_rate
        self.rate = rate
        self.timing = timing
        self.weight = weight
        self.slots: tuple[RateSlot, ...] = tuple(sorted(rate.slots, key=lambda s: s.group_start))
        self.group_starts = tuple(s.group_start for s in self.slots)
        self.connect_fee = Fraction(self.slots[0].connect_fee)
        self.max_cost = Fraction(destination_rate.max_cost)
        self.start_s = _seconds_of_day(timing.start_time) if timing.start_time else 0
        self.end_s = _seconds_of_day(timing.end_time) if timing.end_time else DAY_SECONDS
        self.years = frozenset(timing.years)
        self.months = frozenset(timing.months)
        self.month_days = frozenset(timing.month_days)
        self.week_days = frozenset(7 if d == 0 else d for d in timing.week_days)

    def applies_on(self, day: date) -> bool:
        return (
            (not self.years or day.year in self.years)
            and (not self.months or day.month in self.months)
            and (not self.month_days or day.day in self.month_days)
            and (not self.week_days or day.isoweekday() in self.week_days)
        )

    def slot_at(self, offset: int) -> RateSlot:
        index = bisect_right(self.group_starts, offset) - 1
        return self.slots[max(index, 0)]


class _Table:
    """The rate intervals of one destination in one rating plan."""

    __slots__ = ("intervals", "uid")

    def __init__(self, uid: int) -> None:
        self.uid = uid
        self.intervals: list[_Interval] = []


@dataclass(frozen=True, slots=True)
class _Match:
    """Who and what rates a number: the subject used, its plan and the destination found."""

    subject: str
    rating_plan_id: str
    destination_id: str
    prefix: str
    table: _Table


class _Route:
    """For (tenant, category, subject, number): the match in force from each instant on."""

    __slots__ = ("entries", "single", "starts")

    def __init__(self, entries: list[tuple[int, _Match | RatingError]]) -> None:
        self.starts = [start for start, _ in entries]
        self.entries = [entry for _, entry in entries]
        self.single = self.entries[0] if len(self.entries) == 1 else None

    def at(self, instant: int) -> _Match | RatingError:
        return self.entries[bisect_right(self.starts, instant) - 1]


class _Part:
    __slots__ = (
        "cost",
        "end",
        "increment_cost",
        "increments",
        "interval",
        "match",
        "max_cost_applied",
        "max_cost_reached",
        "slot",
        "start",
    )

    def __init__(self, start: int, end: int, interval: _Interval, match: _Match) -> None:
        self.start = start
        self.end = end
        self.interval = interval
        self.match = match
        self.slot = interval.slot_at(start)
        self.increments = 0
        self.cost = Fraction(0)
        self.increment_cost: Fraction | None = None
        self.max_cost_applied = False
        self.max_cost_reached = False


class _Rated:
    """The cost of one usage shape; shared by every call of that shape (memoised)."""

    __slots__ = (
        "connect_fee",
        "cost",
        "parts",
        "rounding_decimals",
        "rounding_method",
        "unrounded",
        "usage_rated",
    )

    def __init__(
        self,
        parts: tuple[_Part, ...],
        cost: Decimal,
        unrounded: Fraction,
        connect_fee: Fraction,
        rounding_method: str,
        rounding_decimals: int,
    ) -> None:
        self.parts = parts
        self.cost = cost
        self.unrounded = unrounded
        self.connect_fee = connect_fee
        self.rounding_method = rounding_method
        self.rounding_decimals = rounding_decimals
        self.usage_rated = sum(part.end - part.start for part in parts)


class RatingResult:
    """The cost of one call and how it was reached (`trace`, JSON-ready)."""

    __slots__ = ("_match", "_rated", "call")

    def __init__(self, call: CallDescriptor, match: _Match, rated: _Rated) -> None:
        self.call = call
        self._match = match
        self._rated = rated

    @property
    def cost(self) -> Decimal:
        return self._rated.cost

    @property
    def usage_rated(self) -> int:
        """The usage rated: the call's usage rounded up to the rate increments."""
        return self._rated.usage_rated

    @property
    def subject(self) -> str:
        """The subject whose rating profile rated the call (after fallbacks)."""
        return self._match.subject

    @property
    def rating_plan_id(self) -> str:
        return self._match.rating_plan_id

    @property
    def destination_id(self) -> str:
        return self._match.destination_id

    @property
    def matched_prefix(self) -> str:
        return self._match.prefix

    @property
    def destination_rate_id(self) -> str:
        parts = self._rated.parts
        return parts[0].interval.destination_rate.id if parts else ""

    @property
    def connect_fee(self) -> Decimal:
        return _exact_decimal(self._rated.connect_fee)

    @property
    def max_cost_applied(self) -> bool:
        return any(part.max_cost_applied for part in self._rated.parts)

    @property
    def max_cost_reached(self) -> bool:
        """A `*disconnect` maximum cost was reached: CGRateS would have cut the call there."""
        return any(part.max_cost_reached for part in self._rated.parts)

    @property
    def trace(self) -> list[dict[str, Any]]:
        answer = self.call.answer_time.astimezone(UTC)
        return [_part_trace(part, answer) for part in self._rated.parts]

    def to_dict(self) -> dict[str, Any]:
        rated = self._rated
        return {
            "cost": str(rated.cost),
            "usage": self.call.usage,
            "usage_rated": rated.usage_rated,
            "tor": self.call.tor,
            "tenant": self.call.tenant,
            "category": self.call.category,
            "subject": self.call.subject,
            "subject_used": self.subject,
            "destination": self.call.destination,
            "destination_id": self.destination_id,
            "matched_prefix": self.matched_prefix,
            "rating_plan_id": self.rating_plan_id,
            "destination_rate_id": self.destination_rate_id,
            "answer_time": self.call.answer_time.astimezone(UTC).isoformat(),
            "connect_fee": str(self.connect_fee),
            "max_cost_applied": self.max_cost_applied,
            "max_cost_reached": self.max_cost_reached,
            "rounding": {
                "method": rated.rounding_method,
                "decimals": rated.rounding_decimals,
                "before": _fraction_text(rated.unrounded),
                "after": str(rated.cost),
            },
            "trace": self.trace,
        }


# --- the engine ----------------------------------------------------------------------------


class RatingEngine:
    """Rates usage under one plan. Build it once (prefix tables, rate intervals, rating
    profiles are compiled here) and reuse it: results are memoised on what they depend on."""

    def __init__(
        self, plan: TariffPlan, *, time_zone: str, cgrates_decimals: int | None = None
    ) -> None:
        plan.validate()
        try:
            self.zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {time_zone!r}") from None
        if cgrates_decimals is not None and not 0 <= cgrates_decimals <= 10:
            raise ValueError("cgrates_decimals must be between 0 and 10")
        self.plan = plan
        self.time_zone = time_zone
        self.cgrates_decimals = cgrates_decimals
        self._prefixes: dict[str, list[str]] = {}
        for destination in plan.destinations:
            for prefix in destination.prefixes:
                ids = self._prefixes.setdefault(prefix, [])
                if destination.id not in ids:
                    ids.append(destination.id)
        rates = {rate.id: rate for rate in plan.rates}
        timings = {timing.id: timing for timing in plan.timings}
        timings.setdefault(ANY, Timing(id=ANY))
        groups: dict[str, list[DestinationRate]] = {}
        for row in plan.destination_rates:
            groups.setdefault(row.id, []).append(row)
        self._tables: dict[str, dict[str, _Table]] = {}
        uid = 0
        for binding in plan.rating_plans:
            tables = self._tables.setdefault(binding.rating_plan_id, {})
            for row in groups[binding.destination_rates_id]:
                table = tables.get(row.destination_id)
                if table is None:
                    table = tables[row.destination_id] = _Table(len(self._tables) * 100_000 + uid)
                uid += 1
                table.intervals.append(
                    _Interval(
                        uid,
                        binding.rating_plan_id,
                        row,
                        rates[row.rate_id],
                        timings[binding.timing_id],
                        binding.weight,
                    )
                )
        self._profiles: dict[tuple[str, str, str], list[tuple[int, str, tuple[str, ...]]]] = {}
        for profile in plan.rating_profiles:
            key = (profile.tenant, profile.category, profile.subject)
            self._profiles.setdefault(key, []).append(
                (_ns(profile.activation_time), profile.rating_plan_id, profile.fallback_subjects)
            )
        self._activations: dict[tuple[str, str], set[int]] = {}
        for (tenant, category, _subject), activations in self._profiles.items():
            activations.sort(key=lambda activation: activation[0])
            self._activations.setdefault((tenant, category), set()).update(
                activation[0] for activation in activations
            )
        self._routes: dict[tuple[str, str, str, str], _Route] = {}
        self._bucket_days: dict[int, int] = {}
        self._day_segments: dict[tuple[int, int], tuple[list[int], list[_Interval | None]]] = {}
        self._memo: dict[tuple[int, int], _Rated] = {}

    # public API

    def rate(self, call: CallDescriptor) -> RatingResult:
        """Rate one usage; raises RatingError with a machine-readable reason."""
        return self._rate(call)

    def rate_many(self, calls: Iterable[CallDescriptor]) -> list[RatingResult | RatingError]:
        """Rate a batch: each item is a RatingResult or the RatingError of that usage."""
        results: list[RatingResult | RatingError] = []
        append = results.append
        rate = self._rate
        for call in calls:
            try:
                append(rate(call))
            except RatingError as error:
                append(error)
        return results

    # rating

    def _rate(self, call: CallDescriptor) -> RatingResult:
        usage = call.usage
        if type(usage) is not int or usage < 0:
            raise RatingError(
                reason="invalid_usage",
                message=f"usage must be a whole number of base units, not {usage!r}",
            )
        answer_time = call.answer_time
        if not isinstance(answer_time, datetime) or answer_time.tzinfo is None:
            raise RatingError(
                reason="invalid_answer_time",
                message="answer time must be a date and time with a time zone",
            )
        tor = call.tor
        if tor not in TORS:
            raise RatingError(
                reason="invalid_tor", message=f"type of record {tor!r} is not one of {TORS}"
            )
        key = (call.tenant, call.category, call.subject, call.destination)
        route = self._routes.get(key)
        if route is None:
            route = self._route(key)
        start = round(answer_time.timestamp() * 1_000_000) * 1000
        entry = route.single
        if entry is None:
            entry = route.at(start)
            if tor == VOICE and usage and route.at(start + usage - 1) is not entry:
                return RatingResult(
                    call, self._first_match(route, start), self._rate_split(call, route, start)
                )
        if type(entry) is RatingError:
            raise entry
        assert isinstance(entry, _Match)
        starts, intervals = self._segments(entry.table, start)
        index = bisect_right(starts, start) - 1
        interval = intervals[index]
        if interval is None:
            raise self._no_band(entry, start)
        if tor == VOICE and start + usage > starts[index + 1]:
            return RatingResult(call, entry, self._rate_split(call, route, start))
        memo_key = (interval.uid, usage)
        rated = self._memo.get(memo_key)
        if rated is None:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            rated = self._memo[memo_key] = self._price(
                [(0, usage, interval, entry)] if usage else []
            )
        return RatingResult(call, entry, rated)

    def _first_match(self, route: _Route, start: int) -> _Match:
        entry = route.at(start)
        if type(entry) is RatingError:
            raise entry
        assert isinstance(entry, _Match)
        return entry

    def _rate_split(self, call: CallDescriptor, route: _Route, start: int) -> _Rated:
        """A voice call crossing a midnight, a band change or a rating-profile activation."""
        end = start + call.usage
        pieces: list[tuple[int, int, _Interval, _Match]] = []
        instant = start
        while instant < end:
            entry = route.at(instant)
            if type(entry) is RatingError:
                raise entry
            assert isinstance(entry, _Match)
            position = bisect_right(route.starts, instant)
            entry_end = route.starts[position] if position < len(route.starts) else end
            starts, intervals = self._segments(entry.table, instant)
            index = bisect_right(starts, instant) - 1
            interval = intervals[index]
            if interval is None:
                raise self._no_band(entry, instant)
            piece_end = min(end, entry_end, starts[index + 1])
            # CGRateS keeps every split, midnight included: pieces are never merged
            pieces.append((instant - start, piece_end - start, interval, entry))
            instant = piece_end
        return self._price(pieces)

    def _no_band(self, entry: _Match, instant: int) -> RatingError:
        moment = datetime.fromtimestamp(instant / 1e9, self.zone)
        return RatingError(
            reason="no_rate_at_time",
            message=(
                f"rating plan {entry.rating_plan_id} has no time band for destination "
                f"{entry.destination_id} at {moment.isoformat()} ({self.time_zone})"
            ),
        )

    def _price(self, pieces: list[tuple[int, int, _Interval, _Match]]) -> _Rated:
        """Split at rate-group starts, round to increments, cost the parts, cap, round."""
        parts: list[_Part] = []
        for piece_start, piece_end, interval, match in pieces:
            cut = piece_start
            for group_start in interval.group_starts:
                if cut < group_start < piece_end:
                    parts.append(_Part(cut, group_start, interval, match))
                    cut = group_start
            parts.append(_Part(cut, piece_end, interval, match))
        index = 0
        while index < len(parts):
            part = parts[index]
            increment = part.slot.rate_increment
            duration = part.end - part.start
            rounded = -(-duration // increment) * increment
            if rounded > duration:
                part.end = part.start + rounded
                following = index + 1
                while following < len(parts) and parts[following].end <= part.end:
                    del parts[following]
                if following < len(parts) and parts[following].start < part.end:
                    parts[following].start = part.end
            index += 1
        decimals = self.cgrates_decimals
        connect_fee = parts[0].interval.connect_fee if parts else Fraction(0)
        total = connect_fee
        so_far = Fraction(0)
        longest: _Interval | None = None
        for part in parts:
            slot = part.slot
            duration = part.end - part.start
            part.increments = duration // slot.rate_increment
            raw = Fraction(duration) * Fraction(slot.price) / slot.rate_unit
            if decimals is None:
                part.cost = raw
            else:
                part.increment_cost = _round(raw / part.increments, decimals, ROUNDING_HALF_UP)
                part.cost = _round(
                    part.increment_cost * part.increments, decimals, ROUNDING_HALF_UP
                )
            total += part.cost
            interval = part.interval
            # CGRateS adds the running total to MaxCostSoFar at every part (calldesc.go GetCost)
            so_far = so_far + total if decimals is not None else total
            strategy = interval.destination_rate.max_cost_strategy
            if strategy and interval.max_cost > 0 and so_far >= interval.max_cost:
                if strategy == MAX_COST_FREE:
                    total = so_far = interval.max_cost
                    part.max_cost_applied = True
                elif strategy == MAX_COST_DISCONNECT:
                    part.max_cost_reached = True
            if longest is None or (
                interval.destination_rate.rounding_decimals
                > longest.destination_rate.rounding_decimals
            ):
                longest = interval
        method = longest.destination_rate.rounding_method if longest else ROUNDING_HALF_UP
        places = longest.destination_rate.rounding_decimals if longest else 0
        cost = _round(total, places, method)
        return _Rated(
            tuple(parts),
            _to_decimal(cost, places),
            total,
            connect_fee,
            method,
            places,
        )

    # time bands

    def _ordinal(self, instant: int) -> int:
        bucket = instant // _BUCKET_NS
        ordinal = self._bucket_days.get(bucket)
        if ordinal is None:
            ordinal = datetime.fromtimestamp(bucket * 900, self.zone).date().toordinal()
            self._bucket_days[bucket] = ordinal
        return ordinal

    def _segments(self, table: _Table, instant: int) -> tuple[list[int], list[_Interval | None]]:
        """The day's band changes for this destination: starts (UTC ns) and winning intervals,
        closed by the next midnight (with no interval)."""
        ordinal = self._ordinal(instant)
        key = (table.uid, ordinal)
        segments = self._day_segments.get(key)
        if segments is None:
            segments = self._day_segments[key] = self._build_day(table, ordinal)
        return segments

    def _build_day(self, table: _Table, ordinal: int) -> tuple[list[int], list[_Interval | None]]:
        day = date.fromordinal(ordinal)
        candidates = [i for i in table.intervals if i.applies_on(day)]
        bounds = sorted({0} | {i.start_s for i in candidates} | {i.end_s for i in candidates})
        bounds = [b for b in bounds if b < DAY_SECONDS]
        midnight = datetime.combine(day, datetime.min.time(), self.zone)
        starts: list[int] = []
        winners: list[_Interval | None] = []
        for second in bounds:
            best: _Interval | None = None
            for interval in candidates:
                if not interval.start_s <= second < interval.end_s:
                    continue
                if (
                    best is None
                    or interval.weight > best.weight
                    or (interval.weight == best.weight and interval.start_s > best.start_s)
                ):
                    best = interval
            if winners and winners[-1] is best:
                continue
            starts.append(_ns(midnight + timedelta(seconds=second)))
            winners.append(best)
        # the next midnight closes the last band (and every voice call is split there)
        starts.append(
            _ns(datetime.combine(day + timedelta(days=1), datetime.min.time(), self.zone))
        )
        winners.append(None)
        return starts, winners

    # rating profiles

    def _route(self, key: tuple[str, str, str, str]) -> _Route:
        tenant, category, subject, number = key
        instants = sorted(self._activations.get((tenant, category), ()))
        entries: list[tuple[int, _Match | RatingError]] = []
        for start in [_FOREVER, *instants]:
            probe = instants[0] - 1 if start == _FOREVER and instants else start
            entry = self._resolve(tenant, category, subject, number, probe)
            if entries and entries[-1][1] == entry:
                continue
            entries.append((start, entry))
        route = self._routes[key] = _Route(entries)
        return route

    def _resolve(
        self, tenant: str, category: str, subject: str, number: str, instant: int
    ) -> _Match | RatingError:
        tried: list[str] = []
        inactive: list[str] = []
        if (tenant, category, subject) in self._profiles:
            match = self._lookup(tenant, category, subject, number, instant, 1, tried, inactive)
        elif (tenant, category, ANY) in self._profiles:
            match = self._lookup(tenant, category, ANY, number, instant, 1, tried, inactive)
        else:
            return RatingError(
                reason="no_rating_profile",
                message=(
                    f"no rating profile for tenant {tenant!r}, category {category!r}, "
                    f"subject {subject!r} nor for subject *any"
                ),
            )
        if match is not None:
            return match
        if len(inactive) == len(tried):
            return RatingError(
                reason="no_rating_profile",
                message=(
                    f"no rating profile of tenant {tenant!r}, category {category!r}, "
                    f"subjects {', '.join(tried)} is active yet at that time"
                ),
            )
        return RatingError(
            reason="no_rate_for_destination",
            message=(
                f"destination {number!r} has no rate for tenant {tenant!r}, category "
                f"{category!r} (tried subjects {', '.join(tried)})"
            ),
        )

    def _lookup(
        self,
        tenant: str,
        category: str,
        subject: str,
        number: str,
        instant: int,
        depth: int,
        tried: list[str],
        inactive: list[str],
    ) -> _Match | None:
        if depth > MAX_FALLBACK_DEPTH:
            return None
        activations = self._profiles.get((tenant, category, subject))
        if activations is None:
            return None
        tried.append(subject)
        position = bisect_right([a[0] for a in activations], instant) - 1
        if position < 0:  # before the subject's first activation: CGRateS tries *any
            inactive.append(subject)
            if subject == ANY:
                return None
            return self._lookup(tenant, category, ANY, number, instant, depth + 1, tried, inactive)
        _, plan_id, fallbacks = activations[position]
        match = self._match(subject, plan_id, number)
        if match is not None:
            return match
        for fallback in fallbacks:
            match = self._lookup(
                tenant, category, fallback, number, instant, depth + 1, tried, inactive
            )
            if match is not None:
                return match
        return None

    def _match(self, subject: str, plan_id: str, number: str) -> _Match | None:
        tables = self._tables.get(plan_id, {})
        if number and number != ANY:
            for length in range(len(number), 0, -1):
                prefix = number[:length]
                for destination_id in self._prefixes.get(prefix, ()):
                    table = tables.get(destination_id)
                    if table is not None:
                        return _Match(subject, plan_id, destination_id, prefix, table)
        table = tables.get(ANY)
        if table is not None:
            return _Match(subject, plan_id, ANY, ANY, table)
        return None


# --- arithmetic and trace ------------------------------------------------------------------


def _round(value: Fraction, decimals: int, method: str) -> Fraction:
    scale = 10**decimals
    scaled = value * scale
    if method == ROUNDING_UP:
        whole = -(-scaled.numerator // scaled.denominator)
    elif method == ROUNDING_DOWN:
        whole = scaled.numerator // scaled.denominator
    else:  # "*middle": half up, as CGRateS rounds
        doubled = scaled * 2
        whole = (doubled.numerator // doubled.denominator + 1) // 2
    return Fraction(whole, scale)


def _to_decimal(value: Fraction, decimals: int) -> Decimal:
    whole = value * 10**decimals
    assert whole.denominator == 1
    digits = str(abs(whole.numerator)).rjust(decimals + 1, "0")
    sign = "-" if whole.numerator < 0 else ""
    return Decimal(
        f"{sign}{digits[:-decimals]}.{digits[-decimals:]}" if decimals else sign + digits
    )


def _exact_decimal(value: Fraction) -> Decimal:
    """A terminating fraction as a Decimal; others rounded half up at 10 decimals."""
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    if denominator == 1:
        places = 0
        while (value * 10**places).denominator != 1:
            places += 1
        return _to_decimal(value, places)
    return _to_decimal(_round(value, 10, ROUNDING_HALF_UP), 10)


def _fraction_text(value: Fraction) -> str:
    exact = _exact_decimal(value)
    return str(exact) if Fraction(exact) == value else f"{exact}… ({value})"


def _part_trace(part: _Part, answer: datetime) -> dict[str, Any]:
    interval = part.interval
    slot = part.slot
    match = part.match
    row = interval.destination_rate
    trace: dict[str, Any] = {
        "start": (answer + timedelta(microseconds=part.start // 1000)).isoformat(),
        "end": (answer + timedelta(microseconds=part.end // 1000)).isoformat(),
        "start_offset": part.start,
        "end_offset": part.end,
        "usage": part.end - part.start,
        "subject": match.subject,
        "rating_plan_id": match.rating_plan_id,
        "destination_id": match.destination_id,
        "matched_prefix": match.prefix,
        "destination_rate_id": row.id,
        "timing_id": interval.timing.id,
        "weight": str(interval.weight),
        "rate_id": interval.rate.id,
        "rate_slot": {
            "group_start": slot.group_start,
            "price": str(slot.price),
            "rate_unit": slot.rate_unit,
            "rate_increment": slot.rate_increment,
        },
        "increments": part.increments,
        "cost": _fraction_text(part.cost),
        "rounding": None,
        "max_cost": None,
    }
    if part.increment_cost is not None:
        trace["increment_cost"] = _fraction_text(part.increment_cost)
        trace["rounding"] = "each increment's cost rounded half up (CGRateS compatibility)"
    if row.max_cost_strategy and row.max_cost > 0:
        trace["max_cost"] = {
            "max_cost": str(row.max_cost),
            "strategy": row.max_cost_strategy,
            "applied": part.max_cost_applied,
            "reached": part.max_cost_reached or part.max_cost_applied,
        }
    return trace


def _seconds_of_day(text: str) -> int:
    hours, minutes, seconds = (int(v) for v in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def _ns(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000) * 1000
