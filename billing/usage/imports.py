"""The ingestion pipeline, a chunk at a time: parse -> check -> dedup -> guide -> rate -> write
-> count, with the chunk's records, allowance use and the batch's counters committed together.

A chunk is the unit any worker may take (billing.usage.tasks.usage_chunk_process_task): its
row is locked for the transaction and marked done in it, so a chunk is never written twice and
a crashed run resumes at the first chunk not done.

Dedup is set-based in two steps. Inside a chunk, a set drops repeats of a key already seen.
Against the table, one query looks up the chunk's (dedup_key, started_at) pairs in the unique
index; only new records are rated (a duplicate must not draw on an allowance twice) and written
with COPY straight into the partitioned table. Two workers loading the same new record at once
both pass the lookup; the second COPY then fails on the unique index, its transaction rolls
back whole (records, allowance use, counters) and the chunk is run again, when the lookup sees
the first worker's rows. The first try of a chunk skips the lookup (see `chunk_load`). This
keeps one write per record on the hot path (a staging table plus
INSERT … SELECT … ON CONFLICT would write every record twice: measured, that alone costs more
than the 20 s budget for a million records on this machine).
"""

from __future__ import annotations

import csv
import itertools
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from billing.usage import lines as line_rating
from billing.usage.models import UsageBatch, UsageBatchChunk, UsageRecord
from billing.usage.parsers import (
    PARSERS,
    Numbers,
    Record,
    dedup_key,
    future_limit,
    record_check,
    zone_named,
)

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
TABLE = UsageRecord._meta.db_table
COLUMNS = (
    "dedup_key", "batch_id", "line_number", "source_record_id", "status", "reject_reason",
    "reject_detail", "raw", "service", "direction", "calling_number", "calling_e164",
    "called_number", "called_e164", "started_at", "time_known", "answered_at", "ended_at",
    "duration_seconds", "billable_seconds", "disposition", "delivery_status", "message_parts",
    "message_content", "bytes_up", "bytes_down", "apn", "roaming", "visited_mcc", "visited_mnc",
    "roaming_zone", "cell_id", "imsi", "destination_class", "subscriber_id", "account_id",
    "payment_type", "charge_amount", "currency", "allowance_grant_id", "allowance_units",
    "rated_units", "tariff_version_id", "rating_trace", "rated_at", "created_at",
)  # fmt: skip
# COPY's text format escapes; NUL, which no text column can hold, is marked as unreadable
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\ufffd"})
_NEEDS_ESCAPE = re.compile("[\\\\\t\n\r\x00]").search


@dataclass(slots=True)
class ChunkTally:
    received: int = 0
    rated: int = 0
    rejected: int = 0
    duplicate: int = 0
    zero_charge: int = 0
    duration: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    amounts: dict[str, Decimal] = field(default_factory=dict)


@dataclass(slots=True)
class BatchContext:
    """What stays the same for every chunk of a batch (kept between chunks in one process)."""

    batch: UsageBatch
    numbers: Numbers = field(default_factory=Numbers)
    directory: line_rating.LineDirectory = field(default_factory=line_rating.LineDirectory)
    prefixes: line_rating.Prefixes = field(default_factory=line_rating.Prefixes.from_settings)
    resolver: line_rating.TariffResolver = field(default_factory=line_rating.tariff_resolver)
    keep_content: bool = field(default_factory=lambda: settings.USAGE_STORE_MESSAGE_CONTENT)
    keep_raw: bool = field(default_factory=lambda: settings.USAGE_KEEP_RAW_OF_RATED)


# A worker taking chunk after chunk of one batch keeps its context (numbers normalised, lines
# looked up, the tariff's compiled engine): built afresh per chunk, warming them up again cost
# more than a chunk's rating. Kept a few minutes at most, so line changes are seen soon.
_CONTEXTS: dict[int, tuple[float, BatchContext]] = {}
CONTEXT_SECONDS = 300.0


def batch_context(batch: UsageBatch) -> BatchContext:
    """The context of this batch in this process (kept between its chunks)."""
    now = time.monotonic()
    kept = _CONTEXTS.get(batch.pk)
    if kept is not None and now - kept[0] < CONTEXT_SECONDS:
        context = kept[1]
        context.batch = batch
        return context
    for pk, (since, _) in list(_CONTEXTS.items()):
        if now - since >= CONTEXT_SECONDS or len(_CONTEXTS) >= 4:
            del _CONTEXTS[pk]
    context = BatchContext(batch=batch)
    _CONTEXTS[batch.pk] = (now, context)
    return context


def contexts_forget() -> None:
    """Forget kept batch contexts (tests recreate lines and batches)."""
    _CONTEXTS.clear()


# --- partitions ----------------------------------------------------------------------------------

_partitions_known: set[str] = set()


def _month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def partitions_ensure(months: Iterable[date]) -> list[str]:
    """Create the monthly partitions these months need (PostgreSQL; each in its own short
    transaction, outside a chunk's). Rows already in the DEFAULT partition for a month keep
    it from being created; they stay readable there. Returns the partitions created."""
    if connection.vendor != "postgresql":
        return []
    created = []
    for month in sorted({_month_start(m) for m in months}):
        name = f"{TABLE}_{month:%Y_%m}"
        if name in _partitions_known:
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                try:
                    with transaction.atomic():
                        cursor.execute(
                            f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{TABLE}" '
                            "FOR VALUES FROM (%s) TO (%s)",
                            [
                                datetime(month.year, month.month, 1, tzinfo=UTC),
                                datetime(*_next_month(month).timetuple()[:3], tzinfo=UTC),
                            ],
                        )
                    created.append(name)
                except Exception as error:  # rows of this month already in DEFAULT
                    logger.warning("usage partition %s not created: %s", name, error)
                    continue
        _partitions_known.add(name)
    return created


def partitions_forget() -> None:
    """Forget which partitions exist (tests drop and recreate tables)."""
    _partitions_known.clear()


# --- reading files -------------------------------------------------------------------------------


def text_lines(binary: IO[bytes], count: int) -> Iterator[str]:
    """`count` lines decoded one at a time; bytes that are not UTF-8 become U+FFFD rather
    than stopping the file (the row is still kept, with its reason if it cannot be used).
    The file stays open: the caller owns it."""
    for raw in itertools.islice(binary, count):
        if b"\x00" in raw:  # no text column holds NUL: the row is kept, the byte marked
            raw = raw.replace(b"\x00", "\ufffd".encode())
        yield raw.decode("utf-8", "replace")


# A quoted field may hold line breaks, so a row may span lines: a chunk ends only where the
# quotes seen so far are balanced. A stray quote would make the rest of the file one row; past
# this many lines the row is cut (its chunk then reads it as the malformed row it is).
ROW_LINES_MAX = 100


def chunks_plan(
    binary: IO[bytes], *, chunk_size: int, skip_header: bool
) -> tuple[str, list[tuple[int, int, int]]]:
    """One streaming pass: the content's SHA-256 and the (byte offset, first line, line count)
    of every chunk, each ending at a row's end. Memory holds one line at a time."""
    import hashlib

    digest = hashlib.sha256()
    chunks: list[tuple[int, int, int]] = []
    offset = 0
    line_number = 0
    start_offset, start_line, count = 0, 1, 0
    quoted = False  # inside a quoted field that goes on to the next line
    row_lines = 0
    for raw in binary:
        digest.update(raw)
        line_number += 1
        if skip_header and line_number == 1:
            offset += len(raw)
            start_offset, start_line = offset, 2
            continue
        if count == 0:
            start_offset, start_line = offset, line_number
        count += 1
        offset += len(raw)
        if raw.count(b'"') % 2:
            quoted = not quoted
        row_lines = row_lines + 1 if quoted else 0
        if quoted and row_lines >= ROW_LINES_MAX:
            quoted, row_lines = False, 0
        if count >= chunk_size and not quoted:
            chunks.append((start_offset, start_line, count))
            count = 0
    if count:
        chunks.append((start_offset, start_line, count))
    return digest.hexdigest(), chunks


def header_read(binary: IO[bytes], delimiter: str) -> str:
    """The first line of a file with a header (kept on the batch: any chunk, and recycling,
    reads columns by name without opening the file again)."""
    binary.seek(0)
    return binary.readline().decode("utf-8", errors="replace").rstrip("\r\n")


def parser_options(batch: UsageBatch) -> dict[str, Any]:
    mapping = batch.mapping
    if batch.format != UsageBatch.Format.CSV or mapping is None:
        return {"zone": zone_named(settings.TIME_ZONE)}
    header = None
    if mapping.has_header:
        row = next(csv.reader([batch.header], delimiter=mapping.delimiter), [])
        header = [name.strip() for name in row]
    return {
        "zone": zone_named(mapping.time_zone),
        "columns": mapping.columns,
        "time_format": mapping.time_format,
        "delimiter": mapping.delimiter,
        "header": header,
        "defaults": mapping.defaults,
    }


def chunk_records(batch: UsageBatch, chunk: UsageBatchChunk, binary: IO[bytes]) -> Iterator[Record]:
    options = parser_options(batch)
    binary.seek(chunk.offset)
    lines = text_lines(binary, chunk.line_count)
    parse = PARSERS[batch.format]
    return parse(lines, first_line=chunk.first_line, **options)


# --- one chunk -----------------------------------------------------------------------------------


def records_prepare(
    records: Iterable[Record], context: BatchContext, now: datetime
) -> list[Record]:
    """Normalise numbers, check values, key each record for dedup and class its destination."""
    numbers = context.numbers
    source = context.batch.source_name
    prepared = []
    received_at = context.batch.created_at
    limit = future_limit(now)
    for record in records:
        record = record_check(record, limit=limit) if "started_at" in record else record
        calling = record.get("calling_number", "")
        called = record.get("called_number", "")
        record["calling_e164"], calling_problem = (
            numbers.normalise(calling) if calling else ("", "")
        )
        record["called_e164"], called_problem = numbers.normalise(called) if called else ("", "")
        if calling_problem:
            record["calling_problem"] = "calling number: " + calling_problem
        if called_problem:
            record["called_problem"] = "called number: " + called_problem
        if "started_at" not in record or record.get("started_at") is None:
            record["started_at"] = received_at
            record["time_known"] = False
        own_id = record.get("source_record_id") or ""
        record["dedup_key"] = dedup_key(source, own_id if own_id else "raw:" + record["raw"])
        if "reject_reason" not in record:
            record.setdefault("service", "voice")
            line_rating.destination_class(record, context.prefixes)
        if not context.keep_content:
            record["message_content"] = ""
        prepared.append(record)
    return prepared


def _existing(pairs: Sequence[tuple[Any, datetime]]) -> set[tuple[Any, datetime]]:
    if not pairs:
        return set()
    found: set[tuple[Any, datetime]] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT r.dedup_key, r.started_at FROM unnest(%s::uuid[], %s::timestamptz[]) "
                f'AS k(key, at) JOIN "{TABLE}" r ON r.dedup_key = k.key AND r.started_at = k.at',
                [
                    array_literal(key for key, _ in pairs),
                    array_literal(at.isoformat() for _, at in pairs),
                ],
            )
            found.update((key.hex, at) for key, at in cursor.fetchall())
            return found
        keys = {key for key, _ in pairs}
        existing = UsageRecord.objects.filter(dedup_key__in=keys).values_list(
            "dedup_key", "started_at"
        )
        found.update((key.hex, at) for key, at in existing)
    return found


def chunk_load(
    context: BatchContext, chunk: UsageBatchChunk | None, records: list[Record]
) -> ChunkTally | None:
    """Write one chunk's records and count them, all in one transaction. None when the chunk
    was done already.

    The first try does not look the chunk's records up in the table: a record seen before is
    rare (a re-sent file is caught whole by its fingerprint), and the lookup is a random probe
    of the largest index per record. A record already there then fails the COPY on the unique
    index, the transaction rolls back whole (records, allowance use, counters) and the chunk is
    run again with the lookup, which counts it a duplicate."""
    partitions_ensure(r["started_at"].date() for r in records)
    lookup = context.batch.duplicate_of_id is not None
    for attempt in range(3):
        try:
            return _chunk_load_once(context, chunk, [dict(r) for r in records], lookup=lookup)
        except IntegrityError:
            if attempt == 2:
                raise
            if lookup:
                logger.info("usage chunk raced a concurrent load; running it again")
            lookup = True
    return None


@transaction.atomic
def _chunk_load_once(
    context: BatchContext, chunk: UsageBatchChunk | None, records: list[Record], *, lookup: bool
) -> ChunkTally | None:
    batch = context.batch
    if chunk is not None:
        locked = UsageBatchChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.done:
            return None
    now = timezone.now()
    tally = ChunkTally(received=len(records))
    seen: set[tuple[Any, datetime]] = set()
    fresh: list[Record] = []
    for record in records:
        key = (record["dedup_key"], record["started_at"])
        if key in seen:
            tally.duplicate += 1
            continue
        seen.add(key)
        fresh.append(record)
    existing = _existing([(r["dedup_key"], r["started_at"]) for r in fresh]) if lookup else ()
    if existing:
        kept = [r for r in fresh if (r["dedup_key"], r["started_at"]) not in existing]
        tally.duplicate += len(fresh) - len(kept)
        fresh = kept

    lines = line_rating.records_guide(fresh, context.directory)
    guided = [r for r in fresh if "subscriber_id" in r]
    since = min((r["started_at"] for r in guided), default=now)
    # Usage whose rating depends on other chunks of its line (allowances, charging tiers) is
    # rated under the lines' locks; the rest, and the rejects, are rated and written first,
    # so two workers on the same lines wait on each other only for that part.
    holders = line_rating.grant_holders(lines, since) if lines else set()
    bound = [r for r in guided if line_rating.needs_lock(r, lines[r["subscriber_id"]], holders)]
    bound_ids = {id(r) for r in bound}
    free = [r for r in fresh if id(r) not in bound_ids]
    line_rating.records_rate(free, lines, resolver=context.resolver, grants=[], now=now)
    _tally(free, tally, context)
    prepaid = line_rating.prepaid_charges(free, lines)
    records_write(free, batch_id=batch.pk, created_at=now)
    bound_lines = {r["subscriber_id"]: lines[r["subscriber_id"]] for r in bound}
    line_rating.lines_lock(bound_lines)
    grants = line_rating.grants_lock(bound_lines, since) if bound_lines else []
    # What each line used this period is read afresh under the lines' locks: other workers'
    # chunks of the same lines have committed by now (totals carried between chunks would
    # miss theirs).
    outcome = line_rating.records_rate(
        bound, bound_lines, resolver=context.resolver, grants=grants, now=now
    )
    _tally(bound, tally, context)
    prepaid = line_rating.prepaid_charges(bound, lines, adding_to=prepaid)
    records_write(bound, batch_id=batch.pk, created_at=now)
    reference = f"usage batch {batch.pk}" + (f" chunk {chunk.number}" if chunk else "")
    line_rating.grants_consume(grants, outcome.grants_used, reference=reference, at=now)
    # prepaid usage is debited last: its money buckets are locked only until the commit
    line_rating.prepaid_debit(prepaid, reference=reference, at=now)
    line_rating.tier_counters_add(outcome.tier_units)
    _batch_count(batch, tally)
    if chunk is not None:
        UsageBatchChunk.objects.filter(pk=chunk.pk).update(done=True, done_at=now)
        UsageBatch.objects.filter(pk=batch.pk).update(chunks_done=F("chunks_done") + 1)
    return tally


@transaction.atomic
def chunk_write_charged(
    context: BatchContext, chunk: UsageBatchChunk, records: list[Record]
) -> ChunkTally:
    """Write records already charged (online charging debited them as they happened): kept
    and counted like any other, never rated or debited again. Records stored before (the
    same source and id) count as duplicates."""
    batch = context.batch
    now = timezone.now()
    tally = ChunkTally(received=len(records))
    existing = _existing([(r["dedup_key"], r["started_at"]) for r in records])
    fresh = [r for r in records if (r["dedup_key"], r["started_at"]) not in existing]
    tally.duplicate = len(records) - len(fresh)
    _tally(fresh, tally, context)
    records_write(fresh, batch_id=batch.pk, created_at=now)
    _batch_count(batch, tally)
    UsageBatchChunk.objects.filter(pk=chunk.pk).update(done=True, done_at=now)
    UsageBatch.objects.filter(pk=batch.pk).update(chunks_done=F("chunks_done") + 1)
    return tally


def _tally(records: list[Record], tally: ChunkTally, context: BatchContext) -> None:
    """Count rated and rejected records (and drop a rated one's raw row unless kept)."""
    for record in records:
        if "reject_reason" in record:
            record["status"] = "rejected"
            tally.rejected += 1
            tally.reasons[record["reject_reason"]] += 1
            continue
        tally.rated += 1
        if not context.keep_raw:
            record["raw"] = ""
        amount = record["charge_amount"]
        if not amount:
            tally.zero_charge += 1
        currency = record["currency"]
        tally.amounts[currency] = tally.amounts.get(currency, ZERO) + amount
        if record.get("service") == "voice":  # minutes are calls' (a data session's are not)
            tally.duration += record.get("duration_seconds", 0)


def _batch_count(batch: UsageBatch, tally: ChunkTally) -> None:
    locked = UsageBatch.objects.select_for_update().get(pk=batch.pk)
    reasons = dict(locked.reject_reasons)
    for reason, count in tally.reasons.items():
        reasons[reason] = reasons.get(reason, 0) + count
    totals = {k: Decimal(v) for k, v in locked.totals_by_currency.items()}
    for currency, amount in tally.amounts.items():
        totals[currency] = totals.get(currency, ZERO) + amount
    currency = locked.currency
    if not currency and len(totals) == 1:
        currency = next(iter(totals))
    UsageBatch.objects.filter(pk=batch.pk).update(
        received_count=F("received_count") + tally.received,
        rated_count=F("rated_count") + tally.rated,
        rejected_count=F("rejected_count") + tally.rejected,
        duplicate_count=F("duplicate_count") + tally.duplicate,
        zero_charge_count=F("zero_charge_count") + tally.zero_charge,
        total_duration_seconds=F("total_duration_seconds") + tally.duration,
        reject_reasons=reasons,
        totals_by_currency={k: str(v) for k, v in sorted(totals.items())},
        currency=currency if len(totals) <= 1 else "",
        total_amount=totals.get(currency, ZERO) if len(totals) <= 1 else ZERO,
        updated_at=timezone.now(),
    )


# --- writing -------------------------------------------------------------------------------------


def _text(value: str) -> str:
    return value.translate(_ESCAPE) if _NEEDS_ESCAPE(value) else value


def array_literal(values: Iterable[object]) -> str:
    """A PostgreSQL array literal of plain tokens (uuids, numbers, ISO times): passed as one
    text parameter it costs nothing to send, where a Python list is dumped value by value."""
    return "{" + ",".join(map(str, values)) + "}"


def _time(value: datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


def _copy_line(r: Record, batch_id: str, created: str) -> str:
    get = r.get
    charge = get("charge_amount")
    grant = get("allowance_grant_id")
    version = get("tariff_version_id")
    subscriber = get("subscriber_id")
    account = get("account_id")
    trace = get("rating_trace")
    texts = (
        get("source_record_id", "")[:100],
        get("reject_detail", "")[:300],
        get("raw", ""),
        get("calling_number", "")[:80],
        get("called_number", "")[:80],
        get("message_content", ""),
        get("apn", "")[:100],
        get("visited_mcc", "")[:3],
        get("visited_mnc", "")[:3],
        get("roaming_zone", ""),
        get("cell_id", "")[:40],
        get("imsi", "")[:15],
    )
    # one search over the free-text fields together: almost every row needs no escaping
    if _NEEDS_ESCAPE("".join(texts)):
        texts = tuple(value.translate(_ESCAPE) for value in texts)
    source_id, detail, raw, calling, called, content, apn, mcc, mnc, zone, cell, imsi = texts
    return "\t".join(
        (
            r["dedup_key"],
            batch_id,
            str(get("line_number", 0)),
            source_id,
            r["status"],
            get("reject_reason", ""),
            detail,
            raw,
            get("service", "") or "",
            get("direction", "") or "",
            calling,
            get("calling_e164", ""),
            called,
            get("called_e164", ""),
            r["started_at"].isoformat(),
            "t" if get("time_known", True) else "f",
            _time(get("answered_at")),
            _time(get("ended_at")),
            str(get("duration_seconds", 0)),
            str(get("billable_seconds", 0)),
            get("disposition", ""),
            get("delivery_status", ""),
            str(get("message_parts", 0)),
            content,
            str(get("bytes_up", 0)),
            str(get("bytes_down", 0)),
            apn,
            "t" if get("roaming") else "f",
            mcc,
            mnc,
            zone,
            cell,
            imsi,
            get("destination_class", ""),
            "\\N" if subscriber is None else str(subscriber),
            "\\N" if account is None else str(account),
            get("payment_type", ""),
            "\\N" if charge is None else str(charge),
            get("currency", "") if charge is not None else "",
            "\\N" if grant is None else str(grant),
            str(get("allowance_units", ZERO)),
            str(get("rated_units", ZERO)),
            "\\N" if version is None else str(version),
            "{}" if not trace else _text(line_rating.trace_json(trace)),
            created if get("rated_at") is not None else "\\N",
            created,
        )
    )


def records_write(records: Sequence[Record], *, batch_id: int, created_at: datetime) -> None:
    """COPY on PostgreSQL (text lines built here, written in large blocks); elsewhere an
    INSERT per row through the fields' own conversion (SQLite: the newcomer's demo)."""
    if not records:
        return
    if connection.vendor == "postgresql":
        batch = str(batch_id)
        created = created_at.isoformat()
        sql = f'COPY "{TABLE}" ({", ".join(COLUMNS)}) FROM STDIN'
        # the raw psycopg cursor's errors become Django's (a unique violation is the
        # IntegrityError chunk_load retries on)
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(sql) as copy,
        ):
            block: list[str] = []
            for record in records:
                block.append(_copy_line(record, batch, created))
                if len(block) >= 2000:
                    copy.write("\n".join(block) + "\n")
                    block = []
            if block:
                copy.write("\n".join(block) + "\n")
        return
    UsageRecord.objects.bulk_create(
        [
            UsageRecord(
                **{
                    name: value
                    for name, value in _model_values(record).items()
                    if name in _MODEL_FIELDS
                },
                batch_id=batch_id,
                created_at=created_at,
            )
            for record in records
        ],
        batch_size=500,
    )


_MODEL_FIELDS = {f.attname for f in UsageRecord._meta.concrete_fields} - {"id", "batch_id"}


def _model_values(record: Record) -> dict[str, Any]:
    values = dict(record)
    values["reject_detail"] = values.get("reject_detail", "")[:300]
    values["currency"] = (
        values.get("currency", "") if values.get("charge_amount") is not None else ""
    )
    values.setdefault("rating_trace", {})
    values["rating_trace"] = values["rating_trace"] or {}
    for name in ("calling_number", "called_number"):
        values[name] = values.get(name, "")[:80]
    return {k: v for k, v in values.items() if v is not None or k in _NULLABLE}


_NULLABLE = {
    "answered_at", "ended_at", "subscriber_id", "account_id", "charge_amount",
    "allowance_grant_id", "tariff_version_id", "rated_at",
}  # fmt: skip
