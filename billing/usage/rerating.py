"""Re-rating: when a tariff (or a plan's charging tiers) is corrected, price a period of
chosen lines again with what is in force now, show old and new per record before anything
changes, then commit the new charges and post the differences.

What is re-rated, and why allowances are left alone
    Only the *charged part* of a record is priced again: `rated_units`, the minutes, messages
    or MB left after the allowances it drew on when it was first rated. The allowance draws
    stay exactly as they were (`allowance_units`, `allowance_grant_id` and the grants' `used`
    are not touched). Re-running the allowance step would consume the grants a second time
    (they were already drawn on, and may have been drawn on since by later usage), and giving
    the units back to re-draw them would change what later records drew, cascading through
    the whole period. A tariff correction changes prices, not entitlements, so the charged
    units are the right thing to re-price. Free records (terminating, unanswered,
    undelivered) and records fully covered by allowances have no charged part and keep their
    zero charge.

How the charged part is priced
    As the rating step does (billing.usage.lines): the plan's charging tiers first, by the
    line's cumulative charged units in its bill period (the units of the period's records
    before the re-rated range, then the re-rated records in time order), then the tariff from
    the resolver (settings.USAGE_TARIFF_RESOLVER: the plan's tariff, and of its published
    versions the one in force at each call's time, so a correction published from a past date
    re-prices the calls it covers). A record the
    tariff now refuses (no rate, another currency) keeps its old charge and is listed with the
    reason; nothing is ever re-rated to a silent zero.

What a commit writes (one transaction, the run row locked first)
    * Records still rated or re-rated (not yet on a bill) take the new charge, the new tariff
      version and status `rerated`; the bill run will take them at the new price, so nothing
      else is posted for them.
    * Records already billed keep status `billed` and the charge on their invoice; the new
      charge is written into their trace, and the sum of their differences is posted as one
      `usage_adjustment` Charge per postpaid line (source_key "rerate:<run>:<line>"), credit
      or debit, for the next bill.
    * Prepaid lines' differences (every changed record: their usage is debited from the
      balance at rating time) are recorded on the run (`prepaid_differences`) for the
      balances issue to credit or debit; nothing is posted for them yet.
    Every changed record's trace keeps the old charge, old tariff version and old trace next
    to the new ones. A record whose charge changed since the preview (recycled, re-rated by
    another run) makes the commit refuse as a whole: preview again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billing.models import Charge
from billing.services import charge_post
from billing.usage import lines as rating
from billing.usage.itemised import MAX_PERIOD_DAYS, period_bounds
from billing.usage.lines.rating import MONEY_STEP, _plan_currency, _tiers
from billing.usage.lines.tariffs import call_descriptor, tariff_trace
from billing.usage.models import UsageRecord
from billing.usage.rerating_models import RerateItem, RerateRun
from common.errors import ApplicationError, InvalidTransition
from common.models import DecimalSum
from common.money import Money
from crm.models import Account, Subscriber, User

ZERO = Decimal("0")
RERATABLE = ("rated", "billed", "rerated")
MAX_LINES = 1000
ITEM_BATCH = 2000
RECORD_FIELDS = (
    "id",
    "started_at",
    "answered_at",
    "status",
    "service",
    "called_number",
    "called_e164",
    "apn",
    "rated_units",
    "charge_amount",
    "currency",
    "payment_type",
    "tariff_version_id",
)


@dataclass(slots=True)
class _Priced:
    amount: Decimal | None
    tariff_version_id: int | None
    trace: dict[str, Any]
    problem: str = ""


def _lines(subscribers: Sequence[Subscriber]) -> dict[int, rating.Line]:
    ids = sorted({s.pk for s in subscribers})
    found: dict[int, rating.Line] = {}
    for s in Subscriber.objects.filter(pk__in=ids).select_related("account"):
        found[s.pk] = rating.Line(
            subscriber_id=s.pk,
            account_id=s.account_id,
            msisdn=s.msisdn,
            imsi=s.imsi,
            status=s.status,
            status_changed_at=s.status_changed_at,
            plan_id=s.plan_id,
            payment_type=s.account.payment_type,
            currency=s.account.currency,
            bill_cycle_day=s.account.bill_cycle_day,
        )
    return found


def _check(
    *, lines: Sequence[Subscriber], period_start: date, period_end: date, reason: str
) -> None:
    problems: dict[str, list[str]] = {}
    if not lines:
        problems["lines"] = ["Choose at least one line."]
    elif len(lines) > MAX_LINES:
        problems["lines"] = [f"At most {MAX_LINES} lines in one re-rate; split the selection."]
    if period_end < period_start:
        problems["period_end"] = ["The end of the period is before its start."]
    elif (period_end - period_start).days >= MAX_PERIOD_DAYS:
        problems["period_end"] = [f"A re-rate covers at most {MAX_PERIOD_DAYS} days."]
    if not reason.strip():
        problems["reason"] = ["Say why the period is re-rated (e.g. the tariff corrected)."]
    if problems:
        raise ApplicationError("The re-rate cannot start.", code="invalid", fields=problems)


def _tier_bases(
    line: rating.Line, services: Iterable[str], since: datetime, first: datetime
) -> dict[tuple[str, datetime], Decimal]:
    """Charged units of the line per (service, bill period start) before the re-rated range
    (records of the same bill period that started before `since`)."""
    bases: dict[tuple[str, datetime], Decimal] = {}
    period_start, _ = rating.bill_period(first, line.bill_cycle_day)
    if period_start >= since:
        return bases
    for service in services:
        total = UsageRecord.objects.filter(
            subscriber_id=line.subscriber_id,
            service=service,
            started_at__gte=period_start,
            started_at__lt=since,
            status__in=RERATABLE,
        ).aggregate(total=DecimalSum("rated_units"))["total"]
        bases[(service, period_start)] = total or ZERO
    return bases


def _price_line(
    line: rating.Line,
    records: list[dict[str, Any]],
    *,
    since: datetime,
    resolver: rating.TariffResolver,
    tariffs: dict[int | None, rating.Tariff | None],
) -> list[_Priced]:
    """New charges of one line's charged records (in time order), as the rating step prices
    the units beyond allowances: tiers by cumulative units in the bill period, then the
    tariff in force now."""
    priced: list[_Priced | None] = [None] * len(records)
    for_tariff: list[int] = []
    has_tiers = {
        service: bool(line.plan_id is not None and _tiers(line.plan_id, service))
        for service in {r["service"] for r in records}
    }
    cumulative: dict[tuple[str, datetime], Decimal] = {}
    if any(has_tiers.values()) and records:
        cumulative = _tier_bases(
            line, [s for s, yes in has_tiers.items() if yes], since, records[0]["started_at"]
        )
    for index, record in enumerate(records):
        units = record["rated_units"]
        service = record["service"]
        if has_tiers[service]:
            assert line.plan_id is not None
            start, _ = rating.bill_period(record["started_at"], line.bill_cycle_day)
            key = (service, start)
            used = cumulative.get(key, ZERO)
            tiered = rating.tier_price(_tiers(line.plan_id, service), used, units)
            if tiered is not None:
                cumulative[key] = used + units
                currency = _plan_currency(line.plan_id)
                if currency != line.currency:
                    priced[index] = _Priced(
                        None,
                        None,
                        {},
                        f"tiers priced in {currency}; the account is in {line.currency}",
                    )
                    continue
                cost, steps = tiered
                priced[index] = _Priced(
                    cost.quantize(MONEY_STEP, ROUND_HALF_UP),
                    None,
                    {"tiers": steps, "period_used": str(used)},
                )
                continue
        for_tariff.append(index)
    if for_tariff:
        if line.plan_id not in tariffs:
            tariffs[line.plan_id] = resolver(plan_id=line.plan_id)
        tariff = tariffs[line.plan_id]
        if tariff is None:
            for index in for_tariff:
                priced[index] = _Priced(None, None, {}, "no charging tier or tariff rates it now")
        else:
            calls = [
                call_descriptor(tariff, records[i], records[i]["rated_units"]) for i in for_tariff
            ]
            for index, result in zip(for_tariff, tariff.engine.rate_many(calls), strict=True):
                price = getattr(result, "cost", None)
                if price is None:
                    priced[index] = _Priced(
                        None, None, {}, str(getattr(result, "reason", result))[:300]
                    )
                elif tariff.currency != line.currency:
                    priced[index] = _Priced(
                        None,
                        None,
                        {},
                        f"tariff priced in {tariff.currency}; the account is in {line.currency}",
                    )
                else:
                    priced[index] = _Priced(
                        Decimal(price).quantize(MONEY_STEP, ROUND_HALF_UP),
                        getattr(result, "version_id", tariff.version_id),
                        {"tariff": tariff_trace(result)},
                    )
    return [p for p in priced if p is not None]


def _add(totals: dict[str, dict[str, Decimal]], currency: str, old: Decimal, new: Decimal) -> None:
    entry = totals.setdefault(currency, {"old": ZERO, "new": ZERO, "difference": ZERO})
    entry["old"] += old
    entry["new"] += new
    entry["difference"] += new - old


@transaction.atomic
def rerate_preview(
    *,
    lines: Sequence[Subscriber],
    period_start: date,
    period_end: date,
    actor: User,
    reason: str,
    selection: str = "",
    resolver: rating.TariffResolver | None = None,
) -> RerateRun:
    """Price the lines' rated, re-rated and billed records of the period again with the
    tiers and tariffs in force now and keep the result as a preview (nothing else changes):
    a run with old, new and difference per record and per currency."""
    _check(lines=lines, period_start=period_start, period_end=period_end, reason=reason)
    since, until = period_bounds(period_start, period_end)
    resolver = resolver or rating.tariff_resolver()
    known = _lines(lines)
    run = RerateRun.objects.create(
        period_start=period_start,
        period_end=period_end,
        subscriber_ids=sorted(known),
        selection=selection[:300],
        reason=reason[:200],
        created_by=actor,
    )
    totals: dict[str, dict[str, Decimal]] = {}
    prepaid: dict[str, dict[str, Decimal]] = {}
    tariffs: dict[int | None, rating.Tariff | None] = {}
    counted = changed = skipped = 0
    pending: list[RerateItem] = []
    for subscriber_id in sorted(known):
        line = known[subscriber_id]
        base = UsageRecord.objects.filter(
            subscriber_id=subscriber_id,
            started_at__gte=since,
            started_at__lt=until,
            status__in=RERATABLE,
        )
        counted += base.count()
        charged = list(
            base.filter(rated_units__gt=0, charge_amount__isnull=False)
            .order_by("started_at", "id")
            .values(*RECORD_FIELDS)
        )
        for record, priced in zip(
            charged,
            _price_line(line, charged, since=since, resolver=resolver, tariffs=tariffs),
            strict=True,
        ):
            old = record["charge_amount"]
            new = old if priced.amount is None else priced.amount
            skipped += bool(priced.problem)
            changed += new != old
            currency = record["currency"] or line.currency
            _add(totals, currency, old, new)
            if record["payment_type"] == Account.PaymentType.PREPAID and new != old:
                per_line = prepaid.setdefault(str(subscriber_id), {})
                per_line[currency] = per_line.get(currency, ZERO) + new - old
            pending.append(
                RerateItem(
                    run=run,
                    record_id=record["id"],
                    started_at=record["started_at"],
                    subscriber_id=subscriber_id,
                    payment_type=record["payment_type"],
                    service=record["service"],
                    called_number=(record["called_number"] or record["apn"] or "")[:80],
                    rated_units=record["rated_units"],
                    currency=currency,
                    old_amount=old,
                    new_amount=new,
                    old_tariff_version_id=record["tariff_version_id"],
                    new_tariff_version_id=(
                        record["tariff_version_id"]
                        if priced.amount is None
                        else priced.tariff_version_id
                    ),
                    new_trace=priced.trace,
                    problem=priced.problem,
                )
            )
            if len(pending) >= ITEM_BATCH:
                RerateItem.objects.bulk_create(pending)
                pending = []
    RerateItem.objects.bulk_create(pending)
    run.record_count = counted
    run.changed_count = changed
    run.skipped_count = skipped
    run.totals = _strings(totals)
    run.prepaid_differences = _strings(prepaid)
    run.save(
        update_fields=[
            "record_count",
            "changed_count",
            "skipped_count",
            "totals",
            "prepaid_differences",
            "updated_at",
        ]
    )
    return run


def _strings(values: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, str]]:
    return {key: {k: str(v) for k, v in inner.items()} for key, inner in values.items()}


def _lock(run: RerateRun, target: str, actor: User, reason: str) -> RerateRun:
    locked = RerateRun.objects.select_for_update().get(pk=run.pk)
    if target not in RerateRun.TRANSITIONS[locked.status]:
        raise InvalidTransition(
            f"This re-rate is already {locked.get_status_display().lower()}; it cannot be "
            f"{'committed' if target == RerateRun.Status.COMMITTED else 'discarded'}."
        )
    if not reason.strip():
        raise ApplicationError(
            "Say why.", code="invalid", fields={"reason": ["A reason is required."]}
        )
    return locked


def _rerate_trace(item: RerateItem, run: RerateRun, billed: bool) -> dict[str, Any]:
    return {
        "run": str(run.public_id),
        "at": timezone.now().isoformat(),
        "old_charge": str(item.old_amount),
        "new_charge": str(item.new_amount),
        "old_tariff_version": item.old_tariff_version_id,
        "new_tariff_version": item.new_tariff_version_id,
        "new_steps": item.new_trace,
        "billed": billed,
    }


def _apply(run: RerateRun, items: list[RerateItem]) -> dict[int, str]:
    """Write the new charges of `items` (changed records only); returns each record's status
    when it was changed. Refuses if any record changed since the preview."""
    found = {
        (row["id"]): row
        for row in UsageRecord.objects.filter(
            id__in=[item.record_id for item in items],
            started_at__in={item.started_at for item in items},
        )
        .select_for_update()
        .values("id", "started_at", "status", "charge_amount", "rating_trace")
    }
    statuses: dict[int, str] = {}
    for item in items:
        row = found.get(item.record_id)
        if (
            row is None
            or row["started_at"] != item.started_at
            or row["status"] not in RERATABLE
            or row["charge_amount"] != item.old_amount
        ):
            raise ApplicationError(
                "Some records changed since the preview (recycled or re-rated by another run); "
                "discard this preview and start again.",
                code="conflict",
            )
        statuses[item.record_id] = row["status"]
    now = timezone.now()
    changes = []
    for item in items:
        row = found[item.record_id]
        billed = row["status"] == UsageRecord.Status.BILLED
        trace = dict(row["rating_trace"] or {})
        trace.setdefault("reratings", []).append(_rerate_trace(item, run, billed))
        changes.append((item, billed, trace))
    if connection.vendor == "postgresql":
        # one statement for the run: a billed record keeps its charge (its difference is an
        # adjustment), the rest take the new one
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{UsageRecord._meta.db_table}" r SET rating_trace = v.trace::jsonb, '
                "charge_amount = CASE WHEN v.billed THEN r.charge_amount ELSE v.amount END, "
                "tariff_version_id = CASE WHEN v.billed THEN r.tariff_version_id "
                "ELSE v.version END, "
                "status = CASE WHEN v.billed THEN r.status ELSE %s END, "
                "rated_at = CASE WHEN v.billed THEN r.rated_at ELSE %s END "
                "FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::boolean[], "
                "%s::numeric[], %s::bigint[]) AS v(id, at, trace, billed, amount, version) "
                "WHERE r.id = v.id AND r.started_at = v.at",
                [
                    UsageRecord.Status.RERATED.value,
                    now,
                    [item.record_id for item, _, _ in changes],
                    [item.started_at for item, _, _ in changes],
                    [rating.trace_json(trace) for _, _, trace in changes],
                    [billed for _, billed, _ in changes],
                    [item.new_amount for item, _, _ in changes],
                    [item.new_tariff_version_id for item, _, _ in changes],
                ],
            )
        return statuses
    for item, billed, trace in changes:
        updates: dict[str, Any] = {"rating_trace": trace}
        if not billed:
            updates.update(
                charge_amount=item.new_amount,
                tariff_version_id=item.new_tariff_version_id,
                status=UsageRecord.Status.RERATED,
                rated_at=now,
            )
        UsageRecord.objects.filter(id=item.record_id, started_at=item.started_at).update(**updates)
    return statuses


@transaction.atomic
def rerate_commit(*, run: RerateRun, actor: User, reason: str) -> RerateRun:
    """Commit a previewed re-rate (see the module docstring for what it writes). Committing a
    run that is already committed refuses (409) and posts nothing: the run row is locked
    first, and each adjustment's source_key is unique besides."""
    run = _lock(run, RerateRun.Status.COMMITTED, actor, reason)
    changed = [
        item for item in run.items.order_by("record_id") if item.new_amount != item.old_amount
    ]
    statuses: dict[int, str] = {}
    for start in range(0, len(changed), ITEM_BATCH):
        statuses.update(_apply(run, changed[start : start + ITEM_BATCH]))
    billed_differences: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for item in changed:
        if (
            statuses[item.record_id] == UsageRecord.Status.BILLED
            and item.payment_type != Account.PaymentType.PREPAID
        ):
            per_line = billed_differences[item.subscriber_id]
            per_line[item.currency] = per_line.get(item.currency, ZERO) + item.difference
    subscribers = Subscriber.objects.select_related("account").in_bulk(list(billed_differences))
    for subscriber_id in sorted(billed_differences):
        subscriber = subscribers[subscriber_id]
        for currency, difference in sorted(billed_differences[subscriber_id].items()):
            if difference == 0:
                continue
            charge_post(
                account=subscriber.account,
                subscriber=subscriber,
                amount=Money(difference, currency),
                kind=Charge.Kind.USAGE_ADJUSTMENT,
                description=(
                    f"Usage re-rated {run.period_start:%d %b %Y} to {run.period_end:%d %b %Y}: "
                    f"{'credit' if difference < 0 else 'debit'} for billed usage"
                ),
                source_key=f"rerate:{run.public_id}:{subscriber_id}",
                actor=actor,
                details={"run": str(run.public_id), "reason": run.reason},
                period_start=run.period_start,
                period_end=run.period_end,
            )
    run.status = RerateRun.Status.COMMITTED
    run.decided_by = actor
    run.decided_at = timezone.now()
    run.decision_reason = reason[:200]
    run.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    return run


@transaction.atomic
def rerate_discard(*, run: RerateRun, actor: User, reason: str) -> RerateRun:
    """Drop a preview: nothing was changed, the run and its items stay as the record of it."""
    run = _lock(run, RerateRun.Status.DISCARDED, actor, reason)
    run.status = RerateRun.Status.DISCARDED
    run.decided_by = actor
    run.decided_at = timezone.now()
    run.decision_reason = reason[:200]
    run.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    return run


def rerate_adjustments(run: RerateRun) -> list[Charge]:
    """The charges a committed run posted (postpaid lines with billed usage)."""
    return list(
        Charge.objects.filter(source_key__startswith=f"rerate:{run.public_id}:").order_by("pk")
    )


def rerate_lines_select(
    *, msisdns: str = "", plan_code: str = "", tariff_code: str = ""
) -> tuple[list[Subscriber], str]:
    """The lines a re-rate covers, from a list of numbers (one a line, or separated by commas
    or semicolons; typed any way) or
    every line on a plan (all its versions); with a description of the choice, in words. A
    number no line has is refused by name."""
    from crm.validators import msisdn_to_e164

    tokens = [t.strip() for t in re.split(r"[,;\n]+", msisdns) if t.strip()]
    if sum(map(bool, (tokens, plan_code, tariff_code))) != 1:
        raise ApplicationError(
            "Choose the lines one way: by number, by plan or by tariff.",
            code="invalid",
            fields={"msisdns": ["Give numbers, or leave them out and choose a plan or a tariff."]},
        )
    if tariff_code:
        found = list(Subscriber.objects.filter(plan__tariff__code=tariff_code).order_by("pk"))
        if not found:
            raise ApplicationError(
                "No line is on a plan rated by this tariff.",
                code="invalid",
                fields={"tariff_code": [f"No line's plan uses tariff {tariff_code}."]},
            )
        return found, f"lines on plans rated by tariff {tariff_code}"
    if plan_code:
        found = list(Subscriber.objects.filter(plan__code=plan_code).order_by("pk"))
        if not found:
            raise ApplicationError(
                "No line is on this plan.",
                code="invalid",
                fields={"plan_code": [f"No line is on plan {plan_code}."]},
            )
        return found, f"lines on plan {plan_code}"
    numbers: list[str] = []
    bad: list[str] = []
    for token in tokens:
        number = msisdn_to_e164(token)
        if number is None:
            bad.append(token)
        else:
            numbers.append(number)
    if bad:
        raise ApplicationError(
            "Some numbers are not valid.",
            code="invalid",
            fields={"msisdns": [f"Not a mobile number: {', '.join(bad[:20])}."]},
        )
    found = list(Subscriber.objects.filter(msisdn__in=numbers).order_by("pk"))
    unknown = sorted(set(numbers) - {s.msisdn for s in found})
    if unknown:
        raise ApplicationError(
            "Some numbers belong to no line.",
            code="invalid",
            fields={"msisdns": [f"No line has {', '.join(unknown[:20])}."]},
        )
    return found, f"{len(set(numbers))} numbers: {', '.join(sorted(set(numbers))[:10])}" + (
        "…" if len(set(numbers)) > 10 else ""
    )


def rerate_run_qs() -> Any:
    return RerateRun.objects.select_related("created_by", "decided_by").order_by(
        "-created_at", "-pk"
    )
