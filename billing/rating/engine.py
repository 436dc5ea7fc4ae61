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

import math
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
from common.bulk import gc_paused

VOICE = "*voice"
SMS = "*sms"
MMS = "*mms"
DATA = "*data"
TORS = (VOICE, SMS, MMS, DATA)
_TOR_SET = frozenset(TORS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_UNKNOWN: Any = object()

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
        "connect_fee_num",
        "denominator",
        "destination_rate",
        "end_s",
        "group_starts",
        "max_cost",
        "max_cost_num",
        "memo",
        "month_days",
        "months",
        "multipliers",
        "price_key",
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
        self.price_key = uid  # intervals that price alike share it (set by the engine)
        self.memo: dict[int, _Rated] = {}  # usage -> its cost, shared by the price_key
        self.prepare(None)

    def applies_on(self, day: date) -> bool:
        return (
            (not self.years or day.year in self.years)
            and (not self.months or day.month in self.months)
            and (not self.month_days or day.day in self.month_days)
            and (not self.week_days or day.isoweekday() in self.week_days)
        )

    def slot_index_at(self, offset: int) -> int:
        return max(bisect_right(self.group_starts, offset) - 1, 0)

    def prepare(self, cgrates_decimals: int | None) -> None:
        """Integer pricing: every amount of this interval as a numerator over `denominator`,
        a multiple of each slot's unit times its price's decimal denominator (and of 10**N in
        CGRateS compatibility mode, whose increment costs are counted in 10**-N)."""
        pairs = [(slot, Fraction(slot.price)) for slot in self.slots]
        denominator = math.lcm(
            *(slot.rate_unit * price.denominator for slot, price in pairs),
            self.connect_fee.denominator,
            self.max_cost.denominator,
            10**cgrates_decimals if cgrates_decimals is not None else 1,
        )
        self.denominator = denominator
        self.multipliers = tuple(
            price.numerator * (denominator // (slot.rate_unit * price.denominator))
            for slot, price in pairs
        )
        self.connect_fee_num = self.connect_fee.numerator * (
            denominator // self.connect_fee.denominator
        )
        self.max_cost_num = self.max_cost.numerator * (denominator // self.max_cost.denominator)


class _Table:
    """The rate intervals of one destination in one rating plan."""

    __slots__ = ("bands", "intervals", "shape", "uid")

    def __init__(self, uid: int) -> None:
        self.uid = uid
        self.bands: dict[int, tuple[list[int], list[int]]] = {}  # by 15-minute bucket
        self.shape = 0  # tables with the same timings and weights share their day bands
        self.intervals: list[_Interval] = []


@dataclass(frozen=True, slots=True)
class _Match:
    """What rates a number in a rating plan: the destination found, by which prefix."""

    rating_plan_id: str
    destination_id: str
    prefix: str
    table: _Table


class _Chain:
    """In one activation window of (tenant, category, subject): the (subject, rating plan)
    pairs to try in turn, and what to say when none rates the number."""

    __slots__ = ("candidates", "inactive", "tried")

    def __init__(
        self, candidates: tuple[tuple[str, str], ...], tried: tuple[str, ...], inactive: bool
    ) -> None:
        self.candidates = candidates
        self.tried = tried
        self.inactive = inactive


class _Subject:
    """(tenant, category, subject) compiled: activation windows and their chains."""

    __slots__ = ("chains", "instants")

    def __init__(self, instants: list[int], chains: list[_Chain]) -> None:
        self.instants = instants
        self.chains = chains


class _Part:
    """One rated part of a usage: offsets in base units from the answer time, its cost as an
    integer numerator over the pricing denominator (exact arithmetic without Fractions)."""

    __slots__ = (
        "cost_num",
        "denominator",
        "end",
        "increment_cost",
        "increments",
        "interval",
        "match",
        "max_cost_applied",
        "max_cost_reached",
        "slot_index",
        "start",
        "subject",
    )

    def __init__(
        self, start: int, end: int, interval: _Interval, subject: str, match: _Match | None
    ) -> None:
        self.start = start
        self.end = end
        self.interval = interval
        self.subject = subject
        self.match = match
        self.slot_index = interval.slot_index_at(start)
        self.increments = 0
        self.cost_num = 0
        self.denominator = 1
        self.increment_cost: Decimal | None = None
        self.max_cost_applied = False
        self.max_cost_reached = False

    @property
    def slot(self) -> RateSlot:
        return self.interval.slots[self.slot_index]

    @property
    def cost(self) -> Fraction:
        return Fraction(self.cost_num, self.denominator)


_Piece = tuple[int, int, _Interval, str, "_Match | None"]


class _Rated:
    """The cost of one usage shape, shared by every call of that shape (memoised). Its parts
    (for the trace) are worked out again only when asked for."""

    __slots__ = (
        "_parts",
        "cost",
        "denominator",
        "first",
        "max_cost_applied",
        "max_cost_reached",
        "pieces",
        "price",
        "rounding_decimals",
        "rounding_method",
        "summaries",
        "total_num",
        "usage_rated",
    )

    def __init__(self) -> None:
        self._parts: tuple[_Part, ...] | None = None
        self.summaries: dict[tuple[str, _Match], dict[str, Any]] = {}
        self.cost = Decimal("0")
        self.total_num = 0
        self.denominator = 1
        self.usage_rated = 0
        self.first: _Interval | None = None
        self.rounding_method = ROUNDING_HALF_UP
        self.rounding_decimals = 0
        self.max_cost_applied = False
        self.max_cost_reached = False
        self.pieces: list[_Piece] = []
        self.price: Any = None

    @property
    def parts(self) -> tuple[_Part, ...]:
        if self._parts is None:
            self._parts = self.price(self.pieces)._parts
        assert self._parts is not None
        return self._parts

    @property
    def connect_fee(self) -> Fraction:
        return self.first.connect_fee if self.first is not None else Fraction(0)

    @property
    def unrounded(self) -> Fraction:
        return Fraction(self.total_num, self.denominator)


class RatingResult:
    """The cost of one call and how it was reached (`trace`, JSON-ready)."""

    __slots__ = ("_interval", "_match", "_rated", "_subject", "call")

    def __init__(
        self,
        call: CallDescriptor,
        subject: str,
        match: _Match,
        rated: _Rated,
        interval: _Interval | None = None,
    ) -> None:
        self.call = call
        self._subject = subject
        self._match = match
        self._rated = rated
        self._interval = interval  # the band's interval of a call rated whole

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
        return self._subject

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
        first = self._rated.first
        return first.destination_rate.id if first is not None else ""

    @property
    def connect_fee(self) -> Decimal:
        return _exact_decimal(self._rated.connect_fee)

    @property
    def summary(self) -> dict[str, Any]:
        """What rated the call in a few fields (subject, rating plan, destination, prefix,
        destination rate, usage rated, cost): one dict shared by every call of the same shape,
        so it must not be changed."""
        key = (self._subject, self._match)
        found = self._rated.summaries.get(key)
        if found is None:
            found = self._rated.summaries[key] = {
                "subject": self._subject,
                "rating_plan_id": self._match.rating_plan_id,
                "destination_id": self._match.destination_id,
                "matched_prefix": self._match.prefix,
                "destination_rate_id": self.destination_rate_id,
                "usage_rated": self._rated.usage_rated,
                "cost": str(self._rated.cost),
            }
        return found

    @property
    def max_cost_applied(self) -> bool:
        """A `*free` maximum cost capped the cost."""
        return self._rated.max_cost_applied

    @property
    def max_cost_reached(self) -> bool:
        """A `*disconnect` maximum cost was reached: CGRateS would have cut the call there."""
        return self._rated.max_cost_reached

    @property
    def trace(self) -> list[dict[str, Any]]:
        answer = self.call.answer_time.astimezone(UTC)
        rated = self._rated
        if self._interval is not None and self.call.usage:
            # memoised results are shared by intervals that price alike: trace this call's own
            parts = rated.price([(0, self.call.usage, self._interval, "", None)]).parts
        else:
            parts = rated.parts
        return [_part_trace(part, answer, self._subject, self._match) for part in parts]

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
    profiles are compiled here) and reuse it: results are memoised on what they depend on
    (the rate interval and the usage for a call within one time band)."""

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
                    uid += 1
                    table = tables[row.destination_id] = _Table(uid)
                uid += 1
                interval = _Interval(
                    uid,
                    binding.rating_plan_id,
                    row,
                    rates[row.rate_id],
                    timings[binding.timing_id],
                    binding.weight,
                )
                interval.prepare(cgrates_decimals)
                table.intervals.append(interval)
        self._profiles: dict[tuple[str, str, str], list[tuple[int, str, tuple[str, ...]]]] = {}
        for profile in plan.rating_profiles:
            key = (profile.tenant, profile.category, profile.subject)
            self._profiles.setdefault(key, []).append(
                (_ns(profile.activation_time), profile.rating_plan_id, profile.fallback_subjects)
            )
        instants: dict[tuple[str, str], set[int]] = {}
        for (tenant, category, _subject), activations in self._profiles.items():
            activations.sort(key=lambda activation: activation[0])
            instants.setdefault((tenant, category), set()).update(a[0] for a in activations)
        # fallback subjects are in the subject's own tenant and category: between two
        # activation instants of that tenant and category a subject resolves alike
        self._instants = {key: sorted(values) for key, values in instants.items()}
        self._subjects: dict[tuple[str, str, str], _Subject] = {}
        self._numbers: dict[tuple[str, str], _Match | None] = {}
        self._routes: dict[tuple[str, str, str, str], tuple[str, _Match, int, int]] = {}
        self._bucket_days: dict[int, int] = {}
        self._day_segments: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        prices: dict[tuple[object, ...], int] = {}
        memos: dict[int, dict[int, _Rated]] = {}
        for tables in self._tables.values():
            for table in tables.values():
                for interval in table.intervals:
                    row = interval.destination_rate
                    interval.price_key = prices.setdefault(
                        (
                            interval.rate,
                            row.id,
                            row.rounding_method,
                            row.rounding_decimals,
                            row.max_cost,
                            row.max_cost_strategy,
                        ),
                        len(prices),
                    )
                    interval.memo = memos.setdefault(interval.price_key, {})
        shapes: dict[tuple[tuple[str, Decimal], ...], int] = {}
        for tables in self._tables.values():
            for table in tables.values():
                shape = tuple((i.timing.id, i.weight) for i in table.intervals)
                table.shape = shapes.setdefault(shape, len(shapes))

    # public API

    def rate(self, call: CallDescriptor) -> RatingResult:
        """Rate one usage; raises RatingError with a machine-readable reason."""
        return self._rate(call)

    def rate_many(self, calls: Iterable[CallDescriptor]) -> list[RatingResult | RatingError]:
        """Rate a batch: each item is a RatingResult or the RatingError of that usage.

        The cyclic garbage collector is paused for the batch: results hold no cycles, and its
        passes over a growing list of results would otherwise cost more than the rating."""
        results: list[RatingResult | RatingError] = []
        append = results.append
        rate = self._rate
        with gc_paused():
            for call in calls:
                try:
                    append(rate(call))
                except RatingError as error:
                    append(error)
        return results

    # rating

    def _rate(self, call: CallDescriptor) -> RatingResult:
        # the hot path: a handful of dict lookups when the usage's shape was rated before
        usage = call.usage
        if type(usage) is not int or usage < 0:
            raise RatingError(
                reason="invalid_usage",
                message=f"usage must be a whole number of base units, not {usage!r}",
            )
        answer_time = call.answer_time
        try:  # a naive time (or not a time) cannot be subtracted from an aware one
            start = (answer_time - _EPOCH) // _MICROSECOND * 1000
        except TypeError:
            raise RatingError(
                reason="invalid_answer_time",
                message="answer time must be a date and time with a time zone",
            ) from None
        tor = call.tor
        if tor not in _TOR_SET:
            raise RatingError(
                reason="invalid_tor", message=f"type of record {tor!r} is not one of {TORS}"
            )
        route_key = (call.tenant, call.category, call.subject, call.destination)
        match: _Match | None
        route = self._routes.get(route_key)
        if route is not None and route[2] <= start < route[3]:
            subject, match, _, until = route
            if tor == VOICE and start + usage > until:  # a rating profile starts mid-call
                return self._rate_split(call, self._subject(route_key[:3]), start)
        else:
            compiled = self._subject((call.tenant, call.category, call.subject))
            instants = compiled.instants
            window = bisect_right(instants, start) if instants else 0
            since = instants[window - 1] if window else _FOREVER
            until = instants[window] if window < len(instants) else -_FOREVER
            if tor == VOICE and start + usage > until:
                return self._rate_split(call, compiled, start)
            chain = compiled.chains[window]
            number = call.destination
            numbers = self._numbers
            for subject, plan_id in chain.candidates:  # noqa: B007 (the subject found is kept)
                match = numbers.get((plan_id, number), _UNKNOWN)
                if match is _UNKNOWN:
                    match = self._number_match(plan_id, number)
                if match is not None:
                    break
            else:
                raise self._unrated(chain, call)
            # the resolution holds for this activation window: remember it with its bounds
            if len(self._routes) >= _MEMO_LIMIT:
                self._routes.clear()
            assert match is not None
            self._routes[route_key] = (subject, match, since, until)
        assert isinstance(match, _Match)
        table = match.table
        bands = table.bands.get(start // _BUCKET_NS)
        if bands is None:
            bands = self._segments(table, start)
        starts, winners = bands
        index = bisect_right(starts, start) - 1
        winner = winners[index]
        if winner < 0:
            raise self._no_band(match, start)
        if tor == VOICE and start + usage > starts[index + 1]:
            return self._rate_split(call, self._subject(route_key[:3]), start)
        interval = table.intervals[winner]
        memo = interval.memo
        rated = memo.get(usage)
        if rated is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            rated = memo[usage] = self._quick(interval, usage)
        return RatingResult(call, subject, match, rated, interval)

    def _resolve(self, chain: _Chain, call: CallDescriptor) -> tuple[str, _Match]:
        number = call.destination
        numbers = self._numbers
        for subject, plan_id in chain.candidates:
            key = (plan_id, number)
            match = numbers[key] if key in numbers else self._number_match(plan_id, number)
            if match is not None:
                return subject, match
        raise self._unrated(chain, call)

    def _rate_split(self, call: CallDescriptor, compiled: _Subject, start: int) -> RatingResult:
        """A voice call crossing a midnight, a band change or a rating-profile activation."""
        end = start + call.usage
        pieces: list[_Piece] = []
        instants = compiled.instants
        instant = start
        first: tuple[str, _Match] | None = None
        while instant < end:
            window = bisect_right(instants, instant)
            window_end = instants[window] if window < len(instants) else end
            subject, match = self._resolve(compiled.chains[window], call)
            if first is None:
                first = (subject, match)
            starts, winners = self._segments(match.table, instant)
            index = bisect_right(starts, instant) - 1
            if winners[index] < 0:
                raise self._no_band(match, instant)
            interval = match.table.intervals[winners[index]]
            piece_end = min(end, window_end, starts[index + 1])
            # CGRateS keeps every split, midnight included: pieces are never merged
            pieces.append((instant - start, piece_end - start, interval, subject, match))
            instant = piece_end
        assert first is not None
        return RatingResult(call, first[0], first[1], self._price(pieces))

    def _no_band(self, match: _Match, instant: int) -> RatingError:
        moment = datetime.fromtimestamp(instant / 1e9, self.zone)
        return RatingError(
            reason="no_rate_at_time",
            message=(
                f"rating plan {match.rating_plan_id} has no time band for destination "
                f"{match.destination_id} at {moment.isoformat()} ({self.time_zone})"
            ),
        )

    def _unrated(self, chain: _Chain, call: CallDescriptor) -> RatingError:
        where = f"tenant {call.tenant!r}, category {call.category!r}"
        if not chain.tried:
            return RatingError(
                reason="no_rating_profile",
                message=f"no rating profile for {where}, subject {call.subject!r} nor *any",
            )
        if chain.inactive:
            return RatingError(
                reason="no_rating_profile",
                message=(
                    f"no rating profile of {where}, subjects {', '.join(chain.tried)} is "
                    f"active at {call.answer_time.isoformat()}"
                ),
            )
        return RatingError(
            reason="no_rate_for_destination",
            message=(
                f"destination {call.destination!r} has no rate for {where} "
                f"(tried subjects {', '.join(chain.tried)})"
            ),
        )

    def _quick(self, interval: _Interval, usage: int) -> _Rated:
        """The cost of a usage rated whole by one interval (no band change): rate groups and
        increments walked with integers only; the parts are rebuilt only for a trace."""
        rated = _Rated()
        rated.price = self._price
        rated.pieces = [(0, usage, interval, "", None)] if usage else []
        if not usage:
            return rated
        slots = interval.slots
        starts = interval.group_starts
        multipliers = interval.multipliers
        denominator = interval.denominator
        decimals = self.cgrates_decimals
        row = interval.destination_rate
        strategy = row.max_cost_strategy if interval.max_cost_num > 0 else ""
        total = interval.connect_fee_num
        so_far = 0
        position = 0
        group = 0
        last = len(slots) - 1
        while position < usage:
            part_end = starts[group + 1] if group < last else usage
            if part_end > usage:
                part_end = usage
            if part_end > position:
                slot = slots[group]
                increment = slot.rate_increment
                duration = -(-(part_end - position) // increment) * increment
                position += duration
                if decimals is None:
                    total += duration * multipliers[group]
                else:
                    power = 10**decimals
                    doubled = 2 * increment * multipliers[group] * power
                    per_increment = (doubled + denominator) // (2 * denominator)
                    total += per_increment * (duration // increment) * (denominator // power)
                if strategy:
                    so_far = so_far + total if decimals is not None else total
                    if so_far >= interval.max_cost_num:
                        if strategy == MAX_COST_FREE:
                            total = so_far = interval.max_cost_num
                            rated.max_cost_applied = True
                        else:
                            rated.max_cost_reached = True
            group += 1
        rated.usage_rated = position
        rated.total_num = total
        rated.denominator = denominator
        rated.first = interval
        rated.rounding_method = row.rounding_method
        rated.rounding_decimals = row.rounding_decimals
        rated.cost = _decimal_of(
            _round_int(total, denominator, row.rounding_decimals, row.rounding_method),
            row.rounding_decimals,
        )
        return rated

    def _price(self, pieces: list[_Piece]) -> _Rated:
        """Split at rate-group starts, round to increments, cost the parts, cap, round.
        Integer arithmetic over the least common denominator of the intervals involved."""
        parts: list[_Part] = []
        for piece_start, piece_end, interval, subject, match in pieces:
            cut = piece_start
            for group_start in interval.group_starts:
                if cut < group_start < piece_end:
                    parts.append(_Part(cut, group_start, interval, subject, match))
                    cut = group_start
            parts.append(_Part(cut, piece_end, interval, subject, match))
        index = 0
        while index < len(parts):
            part = parts[index]
            increment = part.interval.slots[part.slot_index].rate_increment
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
        rated = _Rated()
        rated.price = self._price
        rated.pieces = pieces
        rated._parts = tuple(parts)
        if not parts:
            return rated
        decimals = self.cgrates_decimals
        first = parts[0].interval
        denominator = first.denominator
        for part in parts:
            if part.interval.denominator != denominator:
                denominator = math.lcm(denominator, part.interval.denominator)
        total = first.connect_fee_num * (denominator // first.denominator)
        so_far = 0
        longest = first
        for part in parts:
            interval = part.interval
            scale = denominator // interval.denominator
            slot = interval.slots[part.slot_index]
            duration = part.end - part.start
            part.increments = duration // slot.rate_increment
            multiplier = interval.multipliers[part.slot_index]
            part.denominator = denominator
            if decimals is None:
                part.cost_num = duration * multiplier * scale
            else:
                # CGRateS: each increment's cost rounded half up at the global decimals
                power = 10**decimals
                doubled = 2 * slot.rate_increment * multiplier * power
                per_increment = (doubled + interval.denominator) // (2 * interval.denominator)
                part.increment_cost = _decimal_of(per_increment, decimals)
                part.cost_num = per_increment * part.increments * (denominator // power)
            total += part.cost_num
            # CGRateS adds the running total to MaxCostSoFar at every part (calldesc.go GetCost)
            so_far = so_far + total if decimals is not None else total
            strategy = interval.destination_rate.max_cost_strategy
            max_cost = interval.max_cost_num * scale
            if strategy and max_cost > 0 and so_far >= max_cost:
                if strategy == MAX_COST_FREE:
                    total = so_far = max_cost
                    part.max_cost_applied = rated.max_cost_applied = True
                elif strategy == MAX_COST_DISCONNECT:
                    part.max_cost_reached = rated.max_cost_reached = True
            if (
                interval.destination_rate.rounding_decimals
                > longest.destination_rate.rounding_decimals
            ):
                longest = interval
        rated.usage_rated = sum(part.end - part.start for part in parts)
        rated.total_num = total
        rated.denominator = denominator
        rated.first = first
        rated.rounding_method = longest.destination_rate.rounding_method
        rated.rounding_decimals = longest.destination_rate.rounding_decimals
        rated.cost = _decimal_of(
            _round_int(total, denominator, rated.rounding_decimals, rated.rounding_method),
            rated.rounding_decimals,
        )
        return rated

    # time bands

    def _ordinal(self, instant: int) -> int:
        bucket = instant // _BUCKET_NS
        ordinal = self._bucket_days.get(bucket)
        if ordinal is None:
            ordinal = datetime.fromtimestamp(bucket * 900, self.zone).date().toordinal()
            self._bucket_days[bucket] = ordinal
        return ordinal

    def _segments(self, table: _Table, instant: int) -> tuple[list[int], list[int]]:
        """The day's band changes for this destination: starts (UTC ns) and the index of the
        winning interval in the table (-1: none), closed by the next midnight. Tables with the
        same timings and weights share them; they are also kept by 15-minute bucket."""
        ordinal = self._ordinal(instant)
        key = (table.shape, ordinal)
        segments = self._day_segments.get(key)
        if segments is None:
            segments = self._day_segments[key] = self._build_day(table, ordinal)
        if len(table.bands) >= _MEMO_LIMIT:
            table.bands.clear()
        table.bands[instant // _BUCKET_NS] = segments
        return segments

    def _build_day(self, table: _Table, ordinal: int) -> tuple[list[int], list[int]]:
        day = date.fromordinal(ordinal)
        candidates = [
            (index, interval)
            for index, interval in enumerate(table.intervals)
            if interval.applies_on(day)
        ]
        bounds = sorted({0} | {i.start_s for _, i in candidates} | {i.end_s for _, i in candidates})
        midnight = datetime.combine(day, datetime.min.time(), self.zone)
        starts: list[int] = []
        winners: list[int] = []
        for second in bounds:
            if second >= DAY_SECONDS:
                break
            best: _Interval | None = None
            best_index = -1
            for index, interval in candidates:
                if not interval.start_s <= second < interval.end_s:
                    continue
                if (
                    best is None
                    or interval.weight > best.weight
                    or (interval.weight == best.weight and interval.start_s > best.start_s)
                ):
                    best, best_index = interval, index
            if winners and winners[-1] == best_index:
                continue
            starts.append(_ns(midnight + timedelta(seconds=second)))
            winners.append(best_index)
        # the next midnight closes the last band (and every voice call is split there)
        starts.append(
            _ns(datetime.combine(day + timedelta(days=1), datetime.min.time(), self.zone))
        )
        winners.append(-1)
        return starts, winners

    # rating profiles

    def _subject(self, key: tuple[str, str, str]) -> _Subject:
        """The compiled subject; every subject without a profile of its own shares *any's
        (so a million subscribers rated by *any cost one entry, not a million)."""
        compiled = self._subjects.get(key)
        if compiled is not None:
            return compiled
        tenant, category, subject = key
        if key not in self._profiles and subject != ANY:
            return self._subject((tenant, category, ANY))
        instants = self._instants.get((tenant, category), [])
        chains = [
            self._chain(tenant, category, subject, window, instants)
            for window in range(len(instants) + 1)
        ]
        # windows that resolve alike need no boundary between them
        kept_instants: list[int] = []
        kept_chains = [chains[0]]
        for instant, chain in zip(instants, chains[1:], strict=True):
            previous = kept_chains[-1]
            if (chain.candidates, chain.tried, chain.inactive) == (
                previous.candidates,
                previous.tried,
                previous.inactive,
            ):
                continue
            kept_instants.append(instant)
            kept_chains.append(chain)
        compiled = self._subjects[key] = _Subject(kept_instants, kept_chains)
        return compiled

    def _chain(
        self, tenant: str, category: str, subject: str, window: int, instants: list[int]
    ) -> _Chain:
        """The (subject, rating plan) pairs to try in order in this activation window, as
        CGRateS's LoadRatingPlans does: the subject (or *any if the subject has no profile),
        then its fallback subjects depth first, at most three levels; a subject not yet
        active falls back to *any."""
        probe = instants[window - 1] if window else (instants[0] - 1 if instants else 0)
        candidates: list[tuple[str, str]] = []
        tried: list[str] = []
        inactive: list[str] = []

        def visit(name: str, depth: int) -> None:
            if depth > MAX_FALLBACK_DEPTH:
                return
            activations = self._profiles.get((tenant, category, name))
            if activations is None:
                return
            tried.append(name)
            position = bisect_right([a[0] for a in activations], probe) - 1
            if position < 0:
                inactive.append(name)
                if name != ANY:
                    visit(ANY, depth + 1)
                return
            _, plan_id, fallbacks = activations[position]
            candidates.append((name, plan_id))
            for fallback in fallbacks:
                visit(fallback, depth + 1)

        visit(subject if (tenant, category, subject) in self._profiles else ANY, 1)
        return _Chain(tuple(candidates), tuple(tried), bool(tried) and len(inactive) == len(tried))

    def _number_match(self, plan_id: str, number: str) -> _Match | None:
        """Longest prefix of the number among the destinations the plan rates, else *any."""
        tables = self._tables.get(plan_id, {})
        found: _Match | None = None
        if number and number != ANY:
            for length in range(len(number), 0, -1):
                prefix = number[:length]
                for destination_id in self._prefixes.get(prefix, ()):
                    table = tables.get(destination_id)
                    if table is not None:
                        found = _Match(plan_id, destination_id, prefix, table)
                        break
                if found is not None:
                    break
        if found is None and ANY in tables:
            found = _Match(plan_id, ANY, ANY, tables[ANY])
        if len(self._numbers) >= _MEMO_LIMIT:
            self._numbers.clear()
        self._numbers[(plan_id, number)] = found
        return found


# --- arithmetic and trace ------------------------------------------------------------------


def _round_int(numerator: int, denominator: int, decimals: int, method: str) -> int:
    """numerator/denominator rounded to a whole count of 10**-decimals (amounts are >= 0)."""
    scaled = numerator * 10**decimals
    if method == ROUNDING_UP:
        return -(-scaled // denominator)
    if method == ROUNDING_DOWN:
        return scaled // denominator
    return (2 * scaled + denominator) // (2 * denominator)  # "*middle": half up, as CGRateS


def _decimal_of(count: int, decimals: int) -> Decimal:
    """count * 10**-decimals as a Decimal with exactly `decimals` places."""
    digits = str(abs(count)).rjust(decimals + 1, "0")
    sign = "-" if count < 0 else ""
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
        return _decimal_of((value * 10**places).numerator, places)
    return _decimal_of(_round_int(value.numerator, value.denominator, 10, ROUNDING_HALF_UP), 10)


def _fraction_text(value: Fraction) -> str:
    exact = _exact_decimal(value)
    return str(exact) if Fraction(exact) == value else f"{exact}… ({value})"


def _part_trace(part: _Part, answer: datetime, subject: str, match: _Match) -> dict[str, Any]:
    interval = part.interval
    slot = part.slot
    if part.match is not None:
        subject, match = part.subject, part.match
    row = interval.destination_rate
    trace: dict[str, Any] = {
        "start": (answer + timedelta(microseconds=part.start // 1000)).isoformat(),
        "end": (answer + timedelta(microseconds=part.end // 1000)).isoformat(),
        "start_offset": part.start,
        "end_offset": part.end,
        "usage": part.end - part.start,
        "subject": subject,
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
        trace["increment_cost"] = str(part.increment_cost)
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
    return (moment - _EPOCH) // _MICROSECOND * 1000
