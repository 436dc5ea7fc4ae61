"""Rating guided records: zero charge, allowances, charging tiers, then the tariff (the order is
the package's docstring)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import F

from billing.balances.models import Bucket
from billing.balances.services import LineCharge, usage_charges_debit, usage_draws_post
from billing.periods import bill_period_containing
from billing.usage.lines.guiding import Line
from billing.usage.lines.tariffs import (
    Tariff,
    TariffResolver,
    call_descriptor,
    tariff_trace,
)
from billing.usage.parsers import Record
from common.actors import system_actor
from common.models import DecimalSum
from orders.catalog.models import ChargingTier

ZERO = Decimal("0")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CENT = Decimal("0.01")
MONEY_STEP = Decimal(1).scaleb(-settings.MONEY_DECIMAL_PLACES)
CHARGED_STATUSES = ("rated", "billed", "rerated")
NO_RATE = "no_rate"
UNKNOWN_LINE = "unknown_line"
MALFORMED_NUMBER = "malformed_number"

# --- rating --------------------------------------------------------------------------------------


@cache
def _operator_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def bill_period(moment: datetime, cycle_day: int) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the monthly bill period (from the account's bill cycle day, in
    the operator's time zone) that contains `moment`."""
    zone = _operator_zone()
    period = bill_period_containing(moment.astimezone(zone).date(), bill_cycle_day=cycle_day)
    return (
        datetime(period.start.year, period.start.month, period.start.day, tzinfo=zone).astimezone(
            UTC
        ),
        datetime(period.end.year, period.end.month, period.end.day, tzinfo=zone).astimezone(UTC),
    )


@cache
def _minutes(seconds: int) -> Decimal:
    return (Decimal(seconds) / 60).quantize(CENT, ROUND_UP)


def units_of(record: Record) -> Decimal:
    """What a record counts in allowances and tiers: minutes, messages or MB."""
    service = record["service"]
    if service == "voice":
        seconds = record["billable_seconds"]
        # calls last a few thousand distinct numbers of seconds: worked out once each
        return _minutes(seconds) if seconds < 86_400 else _minutes.__wrapped__(seconds)
    if service in ("sms", "mms"):
        return Decimal(record.get("message_parts") or 1)
    volume = record.get("bytes_up", 0) + record.get("bytes_down", 0)
    return (Decimal(volume) / 1_000_000).quantize(CENT, ROUND_UP)


@dataclass(slots=True)
class GrantState:
    pk: int
    subscriber_id: int
    service: str
    scope: str
    zone: str
    remaining: Decimal
    valid_from: datetime
    valid_until: datetime | None
    factor: Decimal = Decimal(1)  # the bucket's units per counted unit (60 s a minute...)
    used: Decimal = ZERO

    def sort_key(self, rank: int) -> tuple[int, datetime, int]:
        return (rank, self.valid_until or datetime.max.replace(tzinfo=UTC), self.pk)


@dataclass(slots=True)
class RatingOutcome:
    grants_used: dict[int, Decimal] = field(default_factory=dict)
    # units charged per (line, service, period start, period end), for `tier_counters_add`
    tier_units: dict[tuple[int, str, datetime, datetime], Decimal] = field(default_factory=dict)


# Advisory-lock namespace of "a line's usage being rated" (two-int form: this, the line's id).
LINE_LOCK_CLASS = 8_001


def lines_lock(subscriber_ids: Iterable[int]) -> None:
    """Serialise the rating of these lines' usage with every other chunk in flight, in id order
    (no deadlock), until the transaction ends: what a line has already used this period (its
    charging tiers) is then read after the chunks before it committed, never beside them."""
    ids = sorted(set(subscriber_ids))
    if not ids or connection.vendor != "postgresql":
        return  # SQLite serialises writers on its own
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, s.id::int) FROM "
            "(SELECT unnest(%s::bigint[]) AS id ORDER BY 1) AS s",
            [LINE_LOCK_CLASS, "{" + ",".join(map(str, ids)) + "}"],
        )


def grant_holders(subscriber_ids: Iterable[int], since: datetime) -> set[tuple[int, str]]:
    """(line, service) pairs with a live allowance bucket valid at or after `since` that still
    has units: the usage that must be rated under the lines' locks. Read without locking: a
    bucket opened at this very moment counts from the next chunk on, as if this one had come
    first."""
    ids = sorted(set(subscriber_ids))
    if not ids:
        return set()
    # one array parameter: thousands of IN placeholders cost more to build than the query
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT DISTINCT subscriber_id, service FROM "{Bucket._meta.db_table}" '
            f"WHERE {_ids_match('subscriber_id')} "
            "AND kind = 'allowance' AND status = 'active' "
            "AND balance > reserved AND (valid_until IS NULL OR valid_until > %s)",
            [_ids_param(ids), since],
        )
        return {(subscriber, service) for subscriber, service in cursor.fetchall()}


def _ids_match(column: str) -> str:
    """`column` is one of a set of ids passed as one parameter (`_ids_param`): an array on
    PostgreSQL (= ANY, which the planner turns into index probes), a JSON array on SQLite."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])"
    return f"{column} IN (SELECT value FROM json_each(%s))"


def _ids_param(ids: Sequence[int]) -> str:
    text = ",".join(map(str, ids))
    return "{" + text + "}" if connection.vendor == "postgresql" else "[" + text + "]"


def needs_lock(record: Record, line: Line, holders: set[tuple[int, str]]) -> bool:
    """Whether rating this record depends on what other chunks of its line use: it may draw
    on an allowance, or the plan's charging tiers price it by the period's usage."""
    if _zero_reason(record):
        return False
    service = "sms" if record["service"] == "mms" else record["service"]
    if (line.subscriber_id, service) in holders:
        return True
    return line.plan_id is not None and bool(_tiers(line.plan_id, record["service"]))


def grants_lock(subscriber_ids: Iterable[int], since: datetime) -> list[GrantState]:
    """The live allowance buckets of these lines still valid at or after `since`, locked for
    the chunk's transaction in pk order (so two chunks lock the same lines in the same order).
    What each has left is counted in minutes, messages or MB, rounded down: a draw can never
    take more than the bucket holds."""
    ids = sorted(set(subscriber_ids))
    if not ids:
        return []
    rows: list[tuple[Any, ...]]
    if connection.vendor != "postgresql":
        # SQLite (the demo): the ORM converts its stored text into Decimals and aware times.
        live = (
            Bucket.objects.filter(
                subscriber_id__in=ids, kind=Bucket.Kind.ALLOWANCE, status=Bucket.Status.ACTIVE
            )
            .exclude(valid_until__lte=since)
            .order_by("id")
        )
        rows = [
            (b.pk, b.subscriber_id, b.service, b.scope, b.zone, b.unit, b.available,
             b.valid_from, b.valid_until)
            for b in live
        ]  # fmt: skip
    else:
        with connection.cursor() as cursor:
            # times as epoch microseconds: thousands of buckets per chunk share a few distinct
            # values, and the driver's time zone loader costs more than the rating per row
            cursor.execute(
                "SELECT id, subscriber_id, service, scope, zone, unit, "
                "balance - reserved - lowest_balance, "
                "(extract(epoch FROM valid_from) * 1000000)::bigint, "
                "(extract(epoch FROM valid_until) * 1000000)::bigint "
                f'FROM "{Bucket._meta.db_table}" WHERE subscriber_id = ANY(%s::bigint[]) '
                "AND kind = 'allowance' AND status = 'active' "
                "AND (valid_until IS NULL OR valid_until > %s) ORDER BY id FOR UPDATE",
                ["{" + ",".join(map(str, ids)) + "}", since],
            )
            times: dict[int | None, datetime | None] = {None: None}
            rows = []
            for *head, start, until in cursor.fetchall():
                for stamp in (start, until):
                    if stamp not in times:
                        times[stamp] = _EPOCH + timedelta(microseconds=stamp)
                rows.append((*head, times[start], times[until]))
    states = []
    for pk, sid, service, scope, zone, unit, available, start, until in rows:
        factor = Bucket.COUNTED_IN[unit][0]
        left = (max(Decimal(available), ZERO) / factor).quantize(CENT, ROUND_DOWN)
        states.append(GrantState(pk, sid, service, scope, zone, left, start, until, factor))
    return states


def grants_consume(
    grants: Sequence[GrantState], used: dict[int, Decimal], *, reference: str, at: datetime
) -> None:
    """Debit what a chunk drew on each allowance bucket (counted units back into the bucket's
    seconds, messages or bytes), with one ledger entry per bucket, in the chunk's transaction."""
    factors = {grant.pk: grant.factor for grant in grants}
    draws = {pk: units * factors[pk] for pk, units in used.items() if units}
    if draws:
        usage_draws_post(
            draws, actor=system_actor(), reason="Usage rated", reference=reference, at=at
        )


@cache
def _tiers(plan_id: int, service: str) -> tuple[tuple[Decimal, Decimal | None, Decimal], ...]:
    return tuple(
        ChargingTier.objects.filter(plan_id=plan_id, service=service)
        .order_by("from_quantity")
        .values_list("from_quantity", "to_quantity", "unit_price_amount")
    )


def tiers_clear() -> None:
    """Forget cached tiers (a catalog change; tests)."""
    _tiers.cache_clear()


@cache
def _plan_currency(plan_id: int) -> str:
    from orders.catalog.models import PricePlan

    return PricePlan.objects.filter(pk=plan_id).values_list("currency", flat=True).first() or ""


def tier_price(
    tiers: Sequence[tuple[Decimal, Decimal | None, Decimal]], used: Decimal, quantity: Decimal
) -> tuple[Decimal, list[dict[str, str]]] | None:
    """Price `quantity` units after `used` already charged in the period, band by band;
    None when the bands do not cover them all."""
    cost = ZERO
    steps: list[dict[str, str]] = []
    position, left = used, quantity
    for low, high, price in tiers:
        if left <= 0:
            break
        if high is not None and position >= high:
            continue
        if position < low:
            return None  # a gap between bands
        take = left if high is None else min(left, high - position)
        cost += take * price
        steps.append({"from": str(low), "units": str(take), "unit_price": str(price)})
        position += take
        left -= take
    if left > 0:
        return None
    return cost, steps


CounterKey = tuple[int, str, datetime, datetime]


def _counted_from_records(keys: Sequence[CounterKey]) -> dict[CounterKey, Decimal]:
    """Units charged per (line, service, period) summed from the records themselves: how a
    counter starts when usage was loaded before it existed."""
    from billing.usage.models import UsageRecord

    totals: dict[CounterKey, Decimal] = dict.fromkeys(keys, ZERO)
    if not keys:
        return totals
    if connection.vendor != "postgresql":
        for sid, service, since, until in keys:
            total = UsageRecord.objects.filter(
                subscriber_id=sid,
                service=service,
                started_at__gte=since,
                started_at__lt=until,
                status__in=CHARGED_STATUSES,
            ).aggregate(total=DecimalSum("rated_units"))["total"]
            totals[(sid, service, since, until)] = total or ZERO
        return totals
    table = UsageRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k.sid, k.service, k.since, k.until, COALESCE(SUM(r.rated_units), 0) "
            "FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
            "AS k(sid, service, since, until) "
            f'LEFT JOIN "{table}" r ON r.subscriber_id = k.sid AND r.started_at >= k.since '
            "AND r.started_at < k.until AND r.service = k.service "
            "AND r.status IN ('rated', 'billed', 'rerated') "
            "GROUP BY k.sid, k.service, k.since, k.until",
            [list(column) for column in zip(*keys, strict=True)],
        )
        for sid, service, since, until, total in cursor.fetchall():
            totals[(sid, service, since, until)] = Decimal(total)
    return totals


def tier_totals_read(keys: set[CounterKey]) -> dict[CounterKey, Decimal]:
    """Units already charged per (line, service, period start, period end), from the usage
    counters: one row per key. The caller holds the lines' locks (`lines_lock`). A key with
    no counter yet is counted from its records once and its counter created."""
    from billing.usage.models import UsageCounter

    if not keys:
        return {}
    ordered = sorted(keys)
    stored: dict[tuple[int, str, datetime], Decimal] = {}
    found = UsageCounter.objects.filter(subscriber_id__in={k[0] for k in ordered}).filter(
        period_start__in={k[2] for k in ordered}
    )
    for sid, service, start, units in found.values_list(
        "subscriber_id", "service", "period_start", "units"
    ):
        stored[(sid, service, start)] = units
    result: dict[CounterKey, Decimal] = {}
    missing: list[CounterKey] = []
    for key in ordered:
        found_units = stored.get(key[:3])
        if found_units is None:
            missing.append(key)
        else:
            result[key] = found_units
    if missing:
        counted = _counted_from_records(missing)
        UsageCounter.objects.bulk_create(
            [
                UsageCounter(
                    subscriber_id=sid, service=service, period_start=since, period_end=until,
                    units=counted[(sid, service, since, until)],
                )
                for sid, service, since, until in missing
            ],
            ignore_conflicts=True,
        )  # fmt: skip
        result.update(counted)
    return result


def tier_counters_add(units: dict[CounterKey, Decimal]) -> None:
    """Add what a chunk charged to its lines' counters (one statement), in the transaction
    that writes the records."""
    items = sorted((key, used) for key, used in units.items() if used)
    if not items:
        return
    from billing.usage.models import UsageCounter

    if connection.vendor != "postgresql":
        for (sid, service, since, _until), used in items:
            UsageCounter.objects.filter(
                subscriber_id=sid, service=service, period_start=since
            ).update(units=F("units") + used)
        return
    table = UsageCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" c SET units = c.units + v.units, updated_at = now() '
            "FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::numeric[]) "
            "AS v(sid, service, since, units) "
            "WHERE c.subscriber_id = v.sid AND c.service = v.service AND c.period_start = v.since",
            [
                [key[0] for key, _ in items],
                [key[1] for key, _ in items],
                [key[2] for key, _ in items],
                [str(used) for _, used in items],
            ],
        )


def _scope_rank(grant: GrantState, record: Record) -> int | None:
    """Where a grant stands for this record: 0 zone, 1 on/off-net, 2 all; None: not usable."""
    zone = record.get("roaming_zone", "")
    if zone:
        return 0 if grant.scope == "zone" and grant.zone == zone else None
    destination = record["destination_class"]
    if destination in ("international", "premium", "short_code"):
        return None
    if grant.scope == "zone":
        return None
    if grant.scope in ("on_net", "off_net"):
        return 1 if grant.scope == destination else None
    return 2


def records_rate(
    records: Sequence[Record],
    lines: dict[int, Line],
    *,
    resolver: TariffResolver,
    grants: list[GrantState],
    now: datetime,
) -> RatingOutcome:
    """Rate guided records in place (charge, currency, grant drawn on, units, tariff version,
    trace, status), in the order of the module docstring."""
    outcome = RatingOutcome()
    grants_by_line: dict[tuple[int, str], list[GrantState]] = defaultdict(list)
    for grant in grants:
        grants_by_line[(grant.subscriber_id, grant.service)].append(grant)
    tariffs: dict[int | None, Tariff | None] = {}
    pending_tiers: list[tuple[Record, Line, Decimal, list[dict[str, Any]]]] = []
    pending_tariff: list[tuple[Record, Line, Decimal, list[dict[str, Any]]]] = []

    for record in records:
        if "reject_reason" in record or "subscriber_id" not in record:
            continue
        line = lines[record["subscriber_id"]]
        record["status"] = "rated"
        record["rated_at"] = now
        trace: list[dict[str, Any]] = []
        zero = _zero_reason(record)
        if zero:
            record["charge_amount"] = ZERO
            record["rating_trace"] = {"free": zero}
            continue
        units = units_of(record)
        left = units
        # 2. allowances
        if units > 0:
            service = "sms" if record["service"] == "mms" else record["service"]
            ranked = []
            for grant in grants_by_line.get((line.subscriber_id, service), ()):
                if grant.remaining <= 0 or grant.valid_from > record["started_at"]:
                    continue
                if grant.valid_until is not None and grant.valid_until <= record["started_at"]:
                    continue
                rank = _scope_rank(grant, record)
                if rank is not None:
                    ranked.append((grant.sort_key(rank), grant))
            ranked.sort(key=lambda item: item[0])
            for _, grant in ranked:
                take = min(grant.remaining, left)
                grant.remaining -= take
                left -= take
                outcome.grants_used[grant.pk] = outcome.grants_used.get(grant.pk, ZERO) + take
                record.setdefault("allowance_grant_id", grant.pk)
                record.setdefault("_draws", []).append((grant, take))
                record["allowance_units"] = record.get("allowance_units", ZERO) + take
                trace.append({"allowance": grant.pk, "scope": grant.scope, "units": str(take)})
                if left <= 0:
                    break
        if left <= 0:
            record["charge_amount"] = ZERO
            record["rating_trace"] = {"steps": trace}
            continue
        record["rated_units"] = left
        if line.plan_id is not None and _tiers(line.plan_id, record["service"]):
            pending_tiers.append((record, line, left, trace))
        else:
            pending_tariff.append((record, line, left, trace))

    # 3. charging tiers, by cumulative charged units in the line's bill period
    beyond: dict[int, tuple[int, str, datetime, datetime]] = {}  # id(record) -> its counter
    if pending_tiers:
        keyed = []
        for record, line, _left, _trace in pending_tiers:
            since, until = bill_period(record["started_at"], line.bill_cycle_day)
            keyed.append((line.subscriber_id, record["service"], since, until))
        # Units already charged per line and period: the counters of the chunk's lines (read
        # under their locks), then counted on through the chunk.
        totals = tier_totals_read(set(keyed))
        counted = outcome.tier_units
        for (record, line, left, trace), key in zip(pending_tiers, keyed, strict=True):
            assert line.plan_id is not None
            currency = _plan_currency(line.plan_id)
            priced = tier_price(_tiers(line.plan_id, record["service"]), totals[key], left)
            if priced is None:
                # beyond the bands: the tariff prices it, and it still counts in the period
                beyond[id(record)] = key
                pending_tariff.append((record, line, left, trace))
                continue
            if currency != line.currency:
                _no_rate(
                    record,
                    f"tiers priced in {currency}; the account is in {line.currency}",
                    outcome,
                )
                continue
            totals[key] += left
            counted[key] = counted.get(key, ZERO) + left
            cost, steps = priced
            record["charge_amount"] = cost.quantize(MONEY_STEP, ROUND_HALF_UP)
            trace.append({"tiers": steps, "period_used": str(totals[key] - left)})
            record["rating_trace"] = {"steps": trace}

    # 4. the tariff, a chunk at a time per plan
    by_plan: dict[int | None, list[tuple[Record, Line, Decimal, list[dict[str, Any]]]]] = (
        defaultdict(list)
    )
    for item in pending_tariff:
        by_plan[item[1].plan_id].append(item)
    for plan_id, items in by_plan.items():
        if plan_id not in tariffs:
            tariffs[plan_id] = resolver(plan_id=plan_id)
        tariff = tariffs[plan_id]
        if tariff is None:
            for record, _line, _left, _trace in items:
                _no_rate(record, "no allowance, charging tier or tariff rates this usage", outcome)
            continue
        calls = [call_descriptor(tariff, record, left) for record, _line, left, _trace in items]
        results = tariff.engine.rate_many(calls)
        for (record, line, _left, trace), result in zip(items, results, strict=True):
            priced = getattr(result, "cost", None)
            if priced is None:
                _no_rate(record, str(getattr(result, "reason", result)), outcome)
                continue
            if tariff.currency != line.currency:
                _no_rate(
                    record,
                    f"tariff priced in {tariff.currency}; the account is in {line.currency}",
                    outcome,
                )
                continue
            record["charge_amount"] = Decimal(priced).quantize(MONEY_STEP, ROUND_HALF_UP)
            counter = beyond.get(id(record))
            if counter is not None:
                outcome.tier_units[counter] = outcome.tier_units.get(counter, ZERO) + _left
            record["tariff_version_id"] = getattr(result, "version_id", tariff.version_id)
            trace.append({"tariff": tariff_trace(result)})
            record["rating_trace"] = {"steps": trace}
    return outcome


def prepaid_charges(
    records: Sequence[Record],
    lines: dict[int, Line],
    *,
    adding_to: dict[int, LineCharge] | None = None,
) -> dict[int, LineCharge]:
    """What each prepaid line was charged by these rated records, to debit from its balance
    (`prepaid_debit`, in the same transaction). Such a record is charged to the customer there
    and then, so it is marked billed: it waits for no bill."""
    charges = dict(adding_to or {})
    for record in records:
        if record.get("status") != "rated" or record.get("payment_type") != "prepaid":
            continue
        amount = record.get("charge_amount")
        if not amount:
            continue
        record["status"] = "billed"
        line = lines[record["subscriber_id"]]
        found = charges.get(line.subscriber_id)
        total = amount if found is None else found.amount + amount
        charges[line.subscriber_id] = LineCharge(line.account_id, record["currency"], total)
    return charges


def prepaid_debit(charges: dict[int, LineCharge], *, reference: str, at: datetime) -> None:
    """Debit prepaid lines' balances for what a chunk charged them; what the balance cannot
    cover is kept as a debt (billing.balances)."""
    usage_charges_debit(charges, reference=reference, at=at)


def _zero_reason(record: Record) -> str:
    if record["direction"] == "terminating":
        return "terminating"
    if record["service"] == "voice" and record.get("disposition") != "answered":
        return "unanswered"
    if record["service"] in ("sms", "mms") and record.get("delivery_status") == "failed":
        return "undelivered"
    return ""


def _no_rate(record: Record, detail: str, outcome: RatingOutcome) -> None:
    """Reject what cannot be priced, giving back any allowance it drew on."""
    for grant, take in record.pop("_draws", ()):
        grant.remaining += take
        outcome.grants_used[grant.pk] -= take
    record["status"] = "rejected"
    record["reject_reason"] = NO_RATE
    record["reject_detail"] = detail[:300]
    for name in ("charge_amount", "allowance_grant_id", "rated_at"):
        record.pop(name, None)
    record["allowance_units"] = ZERO
    record["rated_units"] = ZERO
