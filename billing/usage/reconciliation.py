"""The usage reconciliation report: per period and source, what was received, rated, rejected,
found duplicate and billed, the amounts rated against what was invoiced or debited, and every
discrepancy found.

Scope: the batches (files and API batches) received in the period (operator's time zone,
whole days), from one source or all, and the records those batches brought. Each table is read
with one set-based query: the batches' rows (their control counters), the records grouped by
(batch, status, reject reason, currency, payment type), and the records of terminated lines
after their termination grouped by line. Invoicing arrives with a later issue: until then
nothing invoices usage (the report says "no invoices yet" and shows the billed records'
amounts). Prepaid usage is debited from balances as it is rated and marked billed; prepaid
amounts still rated or re-rated are shown as awaiting debit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from billing.models import Charge
from billing.usage.itemised import period_bounds
from billing.usage.models import UsageBatch, UsageRecord
from common.models import DecimalSum

ZERO = Decimal("0")
CHARGED = ("rated", "billed", "rerated")
IN_FLIGHT = ("received", "guided", "recycled")
STUCK_AFTER_MINUTES = 30


def _money_add(into: dict[str, Decimal], currency: str, amount: Decimal | None) -> None:
    if currency and amount is not None:
        into[currency] = into.get(currency, ZERO) + amount


@dataclass(slots=True)
class Figures:
    """The counters and amounts of one source (or of all of them)."""

    source: str
    batches: int = 0
    received: int = 0
    rated: int = 0
    rejected: int = 0
    duplicate: int = 0
    received_seconds: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    # from the records table
    records: int = 0
    records_rated: int = 0
    records_rerated: int = 0
    records_billed: int = 0
    records_rejected: int = 0
    records_in_flight: int = 0
    record_reject_reasons: dict[str, int] = field(default_factory=dict)
    rated_seconds: int = 0
    rated_amounts: dict[str, Decimal] = field(default_factory=dict)
    billed_amounts: dict[str, Decimal] = field(default_factory=dict)
    prepaid_awaiting_debit: dict[str, Decimal] = field(default_factory=dict)
    postpaid_awaiting_bill: dict[str, Decimal] = field(default_factory=dict)

    @property
    def received_minutes(self) -> Decimal:
        return (Decimal(self.received_seconds) / 60).quantize(Decimal("0.01"))

    @property
    def rated_minutes(self) -> Decimal:
        return (Decimal(self.rated_seconds) / 60).quantize(Decimal("0.01"))

    def absorb(self, other: Figures) -> None:
        for name in (
            "batches", "received", "rated", "rejected", "duplicate", "received_seconds",
            "records", "records_rated", "records_rerated", "records_billed", "records_rejected",
            "records_in_flight", "rated_seconds",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("reject_reasons", "record_reject_reasons"):
            mine = getattr(self, name)
            for key, value in getattr(other, name).items():
                mine[key] = mine.get(key, 0) + value
        for name in (
            "rated_amounts", "billed_amounts", "prepaid_awaiting_debit", "postpaid_awaiting_bill"
        ):  # fmt: skip
            mine = getattr(self, name)
            for currency, amount in getattr(other, name).items():
                _money_add(mine, currency, amount)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: str
    subject: str
    expected: str
    found: str
    detail: str

    @property
    def label(self) -> str:
        return KINDS[self.kind]


@dataclass(slots=True)
class Reconciliation:
    period_from: date
    period_to: date
    source: str
    stuck_after_minutes: int
    sources: list[Figures]
    total: Figures
    invoiced: dict[str, Decimal]
    invoicing_exists: bool
    discrepancies: list[Discrepancy]


def usage_sources() -> list[str]:
    """The names batches were received from (files' sending systems, API clients)."""
    return list(
        UsageBatch.objects.order_by("source_name").values_list("source_name", flat=True).distinct()
    )


KINDS = {
    "counters_do_not_add_up": "Batch counters do not add up (received ≠ rated + rejected + "
    "duplicate)",
    "counter_vs_records": "Batch counter disagrees with its records",
    "batch_unfinished": "Batch not finished",
    "stuck": "Records stuck before rating",
    "no_charge": "Rated records with no charge or currency",
    "after_termination": "Usage rated on a terminated line after its termination",
}


def usage_reconcile(
    *,
    period_from: date,
    period_to: date,
    source: str = "",
    stuck_after_minutes: int = STUCK_AFTER_MINUTES,
    now: datetime | None = None,
) -> Reconciliation:
    """The report for batches received from `period_from` to `period_to` (inclusive) from
    `source` (all sources when empty)."""
    since, until = period_bounds(period_from, period_to)
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=stuck_after_minutes)
    batches = UsageBatch.objects.filter(created_at__gte=since, created_at__lt=until)
    if source:
        batches = batches.filter(source_name=source)
    batch_rows = list(
        batches.order_by("created_at", "pk").values(
            "pk", "public_id", "source_name", "file_name", "status", "created_at",
            "received_count", "rated_count", "rejected_count", "duplicate_count",
            "total_duration_seconds", "reject_reasons",
        )
    )  # fmt: skip
    by_source: dict[str, Figures] = {}
    batch_source: dict[int, str] = {}
    discrepancies: list[Discrepancy] = []
    for row in batch_rows:
        figures = by_source.setdefault(row["source_name"], Figures(row["source_name"]))
        batch_source[row["pk"]] = row["source_name"]
        figures.batches += 1
        figures.received += row["received_count"]
        figures.rated += row["rated_count"]
        figures.rejected += row["rejected_count"]
        figures.duplicate += row["duplicate_count"]
        figures.received_seconds += row["total_duration_seconds"]
        for reason, count in (row["reject_reasons"] or {}).items():
            figures.reject_reasons[reason] = figures.reject_reasons.get(reason, 0) + int(count)
        added = row["rated_count"] + row["rejected_count"] + row["duplicate_count"]
        if row["received_count"] != added:
            discrepancies.append(
                Discrepancy(
                    "counters_do_not_add_up",
                    _batch_name(row),
                    f"received {row['received_count']}",
                    f"rated + rejected + duplicate = {added}",
                    f"{row['rated_count']} + {row['rejected_count']} + {row['duplicate_count']}",
                )
            )
        if (
            row["status"] in (UsageBatch.Status.PROCESSING, UsageBatch.Status.RECEIVED)
            and row["created_at"] < cutoff
        ):
            discrepancies.append(
                Discrepancy(
                    "batch_unfinished",
                    _batch_name(row),
                    "done",
                    row["status"],
                    f"received {row['created_at']:%Y-%m-%d %H:%M} UTC and not finished",
                )
            )
        elif row["status"] == UsageBatch.Status.FAILED:
            discrepancies.append(
                Discrepancy("batch_unfinished", _batch_name(row), "done", "failed", "")
            )

    per_batch = _records_by_batch(list(batch_source), cutoff)
    for row in batch_rows:
        counted = per_batch.get(row["pk"])
        if counted is None:
            counted = _BatchRecords()
        figures = by_source[row["source_name"]]
        figures.absorb(counted.figures)
        if row["status"] != UsageBatch.Status.DONE:
            continue
        checks = (
            ("kept", row["received_count"] - row["duplicate_count"], counted.figures.records),
            ("rated", row["rated_count"], counted.charged),
            ("rejected", row["rejected_count"], counted.figures.records_rejected),
        )  # fmt: skip
        for what, expected, found in checks:
            if expected != found:
                discrepancies.append(
                    Discrepancy(
                        "counter_vs_records",
                        _batch_name(row),
                        f"{what}: {expected} (batch counter)",
                        f"{found} in the records table",
                        "",
                    )
                )
        if counted.figures.records_in_flight and counted.stuck:
            discrepancies.append(
                Discrepancy(
                    "stuck",
                    _batch_name(row),
                    "0",
                    str(counted.stuck),
                    f"received, guided or recycled more than {stuck_after_minutes} minutes ago",
                )
            )
        if counted.uncharged:
            discrepancies.append(
                Discrepancy("no_charge", _batch_name(row), "0", str(counted.uncharged), "")
            )
    discrepancies += _after_termination(list(batch_source))

    total = Figures("All sources")
    for figures in by_source.values():
        total.absorb(figures)
    invoiced, invoicing_exists = _invoiced(since, until)
    return Reconciliation(
        period_from=period_from,
        period_to=period_to,
        source=source,
        stuck_after_minutes=stuck_after_minutes,
        sources=[by_source[name] for name in sorted(by_source)],
        total=total,
        invoiced=invoiced,
        invoicing_exists=invoicing_exists,
        discrepancies=discrepancies,
    )


def _batch_name(row: Any) -> str:
    return f"{row['source_name']} · {row['file_name'] or row['public_id']}"


@dataclass(slots=True)
class _BatchRecords:
    figures: Figures = field(default_factory=lambda: Figures(""))
    charged: int = 0
    stuck: int = 0
    uncharged: int = 0


def _records_by_batch(batch_ids: list[int], cutoff: datetime) -> dict[int, _BatchRecords]:
    """The records of these batches in one GROUP BY (batch, status, reason, currency, payment
    type), served by the (batch, line number) index."""
    found: dict[int, _BatchRecords] = defaultdict(_BatchRecords)
    if not batch_ids:
        return found
    rows = (
        UsageRecord.objects.filter(batch_id__in=batch_ids)
        .values("batch_id", "status", "reject_reason", "currency", "payment_type")
        .annotate(
            n=Count("id"),
            seconds=Sum("duration_seconds", filter=Q(service="voice")),
            amount=DecimalSum("charge_amount"),
            stuck=Count("id", filter=Q(created_at__lt=cutoff)),
            uncharged=Count("id", filter=Q(charge_amount__isnull=True) | Q(currency="")),
        )
        .order_by()
    )
    for row in rows:
        batch = found[row["batch_id"]]
        figures = batch.figures
        status, n, currency = row["status"], row["n"], row["currency"]
        figures.records += n
        if status in CHARGED:
            batch.charged += n
            batch.uncharged += row["uncharged"]
            figures.rated_seconds += row["seconds"] or 0
            _money_add(figures.rated_amounts, currency, row["amount"])
            if status == UsageRecord.Status.BILLED:
                figures.records_billed += n
                _money_add(figures.billed_amounts, currency, row["amount"])
            else:
                if status == UsageRecord.Status.RERATED:
                    figures.records_rerated += n
                else:
                    figures.records_rated += n
                target = (
                    figures.prepaid_awaiting_debit
                    if row["payment_type"] == "prepaid"
                    else figures.postpaid_awaiting_bill
                )
                _money_add(target, currency, row["amount"])
        elif status == UsageRecord.Status.REJECTED:
            figures.records_rejected += n
            reason = row["reject_reason"] or "unknown"
            figures.record_reject_reasons[reason] = figures.record_reject_reasons.get(reason, 0) + n
        else:
            figures.records_in_flight += n
            batch.stuck += row["stuck"]
    return found


def _after_termination(batch_ids: list[int]) -> list[Discrepancy]:
    if not batch_ids:
        return []
    rows = (
        UsageRecord.objects.filter(
            batch_id__in=batch_ids,
            status__in=CHARGED,
            subscriber__status="terminated",
            started_at__gt=F("subscriber__status_changed_at"),
        )
        .values("subscriber_id", "subscriber__msisdn", "subscriber__status_changed_at")
        .annotate(n=Count("id"), first=Min("started_at"), last=Max("started_at"))
        .order_by("subscriber__msisdn")
    )
    return [
        Discrepancy(
            "after_termination",
            row["subscriber__msisdn"],
            "0",
            str(row["n"]),
            f"terminated {row['subscriber__status_changed_at']:%Y-%m-%d %H:%M} UTC; usage from "
            f"{row['first']:%Y-%m-%d %H:%M} to {row['last']:%Y-%m-%d %H:%M} UTC",
        )
        for row in rows
    ]


def _invoiced(since: datetime, until: datetime) -> tuple[dict[str, Decimal], bool]:
    """Usage amounts invoiced in the period. No bill run invoices usage yet: usage reaches a
    bill as usage adjustments only (re-rating), so those invoiced are what is shown."""
    rows = (
        Charge.objects.filter(
            kind=Charge.Kind.USAGE_ADJUSTMENT,
            status=Charge.Status.INVOICED,
            created_at__gte=since,
            created_at__lt=until,
        )
        .values("currency")
        .annotate(total=DecimalSum("amount"))
        .order_by("currency")
    )
    invoiced = {row["currency"]: row["total"] for row in rows}
    return invoiced, bool(invoiced) or getattr(settings, "USAGE_INVOICING_ENABLED", False)


CSV_HEADER = [
    "source", "batches", "received", "duplicate", "rated", "rejected", "received_minutes",
    "records", "records_rated", "records_rerated", "records_billed", "records_rejected",
    "records_in_flight", "rated_minutes", "rejected_by_reason", "rated_amounts",
    "billed_amounts", "postpaid_awaiting_bill", "prepaid_awaiting_debit",
]  # fmt: skip


def _amounts(values: dict[str, Decimal]) -> str:
    return " ".join(f"{amount} {currency}" for currency, amount in sorted(values.items()))


def reconciliation_csv_rows(report: Reconciliation) -> list[list[str]]:
    """The figures per source, the total, then every discrepancy."""
    rows: list[list[str]] = [list(CSV_HEADER)]
    for figures in [*report.sources, report.total]:
        rows.append(
            [
                figures.source, str(figures.batches), str(figures.received),
                str(figures.duplicate), str(figures.rated), str(figures.rejected),
                str(figures.received_minutes), str(figures.records), str(figures.records_rated),
                str(figures.records_rerated), str(figures.records_billed),
                str(figures.records_rejected), str(figures.records_in_flight),
                str(figures.rated_minutes),
                " ".join(f"{k}={v}" for k, v in sorted(figures.record_reject_reasons.items())),
                _amounts(figures.rated_amounts), _amounts(figures.billed_amounts),
                _amounts(figures.postpaid_awaiting_bill), _amounts(figures.prepaid_awaiting_debit),
            ]
        )  # fmt: skip
    rows.append([])
    rows.append(["discrepancy", "subject", "expected", "found", "detail"])
    for item in report.discrepancies:
        rows.append([KINDS[item.kind], item.subject, item.expected, item.found, item.detail])
    return rows
