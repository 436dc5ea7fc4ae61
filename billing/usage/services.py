"""Every write to usage records and their batches: ingesting a file or a batch of API records,
processing a chunk, recycling rejected records, and keeping monthly partitions ahead.

A file is planned in one streaming pass (its SHA-256 and where each chunk starts), then its
chunks are loaded in this process or fanned out to Celery workers; see billing.usage.imports
for what one chunk does. Re-sending a file whose fingerprint matches a finished batch makes a
new batch (`duplicate_of` the first) in which every record is counted a duplicate: the
sender sees their resend for what it is and nothing is charged twice. Sending it again while
its first batch is unfinished (a crash, a stopped worker) resumes that batch instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable
from datetime import UTC, date
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.usage import imports
from billing.usage.models import UsageBatch, UsageBatchChunk, UsageMapping, UsageRecord
from billing.usage.parsers import PARSERS, MappingError, Record, dedup_key
from billing.usage.parsers.generic import (
    FieldProblem,
    mapping_positions,
    record_from_values,
    time_reader,
)
from common.audit import audit_record, changes_between, changes_created, snapshot
from common.bulk import gc_paused
from common.errors import ApplicationError
from common.models import DecimalSum
from common.types import Actor

logger = logging.getLogger(__name__)

FORMATS = tuple(PARSERS)


def usage_partitions_ensure(*, through: date | None = None) -> list[str]:
    """Create monthly partitions of the record table from this month through `through`
    (default: next month), so data never lands in the DEFAULT partition (beat runs it daily)."""
    today = timezone.now().date()
    last = through or date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    months = []
    month = date(today.year, today.month, 1)
    while month <= last:
        months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return imports.partitions_ensure(months)


def _mapping_check(mapping: UsageMapping | None, format: str) -> None:
    if format not in FORMATS:
        raise ApplicationError(
            f"{format!r} is not a usage file format (one of {', '.join(FORMATS)}).",
            code="unknown_format",
            fields={"format": [f"Use one of {', '.join(FORMATS)}."]},
        )
    if format == UsageBatch.Format.CSV and mapping is None:
        raise ApplicationError(
            "A generic CSV file needs a saved column mapping.",
            code="mapping_required",
            fields={"mapping": ["Name the saved column mapping of this file."]},
        )


def usage_batch_ingest_file(
    *,
    path_or_file: str | os.PathLike[str] | IO[bytes],
    format: str,
    source: str,
    actor: Actor | None,
    mapping: UsageMapping | None = None,
    fan_out: bool = False,
    plan_only: bool = False,
) -> UsageBatch:
    """Load a usage file (Asterisk Master.csv, FreeSWITCH mod_cdr_csv, or CSV through a saved
    mapping) as a batch with control totals; memory stays flat whatever the file's size.

    With `fan_out` (a path that workers can read) each chunk becomes a Celery task; with
    `plan_only` the chunks are left for whoever calls `usage_chunk_process`; otherwise the
    chunks are loaded here, one after another, and the batch returned is finished."""
    _mapping_check(mapping, format)
    if isinstance(path_or_file, str | os.PathLike):
        path = Path(path_or_file)
        if not path.is_file():
            raise ApplicationError(
                f"{path} is not a readable file.",
                code="no_file",
                fields={"path": ["No such file."]},
            )
        with path.open("rb") as binary:
            return _ingest(
                binary, format, source, actor, mapping, path.name, str(path),
                "fan_out" if fan_out else "plan_only" if plan_only else "here",
            )  # fmt: skip
    name = Path(getattr(path_or_file, "name", "") or "upload").name
    return _ingest(path_or_file, format, source, actor, mapping, name, "", "here")


def _ingest(
    binary: IO[bytes],
    format: str,
    source: str,
    actor: Actor | None,
    mapping: UsageMapping | None,
    file_name: str,
    file_path: str,
    run: str,
) -> UsageBatch:
    has_header = format == UsageBatch.Format.CSV and mapping is not None and mapping.has_header
    chunk_size = settings.USAGE_CHUNK_SIZE
    binary.seek(0)
    fingerprint, plan = imports.chunks_plan(binary, chunk_size=chunk_size, skip_header=has_header)
    header = imports.header_read(binary, mapping.delimiter) if has_header and mapping else ""
    earlier = (
        UsageBatch.objects.filter(source_name=source, fingerprint=fingerprint, format=format)
        .order_by("-pk")
        .first()
    )
    if earlier is not None and earlier.status != UsageBatch.Status.DONE:
        batch = earlier  # resume an unfinished load of the same content
    else:
        batch = _batch_plan(
            plan,
            source_kind=UsageBatch.SourceKind.FILE if file_path else UsageBatch.SourceKind.UPLOAD,
            source=source,
            format=format,
            mapping=mapping,
            fingerprint=fingerprint,
            file_name=file_name,
            file_path=file_path,
            actor=actor,
            chunk_size=chunk_size,
            duplicate_of=earlier,
            header=header,
        )
    if mapping is not None:
        try:
            options = imports.parser_options(batch)
            mapping_positions(mapping.columns, options.get("header"))
        except MappingError as error:
            _batch_fail(batch, str(error))
            raise ApplicationError(
                f"Mapping {mapping.name}: {error}", code="mapping_mismatch",
                fields={"mapping": [str(error)]},
            ) from error  # fmt: skip
    if run == "plan_only":
        return batch
    if run == "fan_out":
        from billing.usage.tasks import usage_chunk_process_task

        for chunk in batch.chunks.filter(done=False).order_by("number"):
            transaction.on_commit(
                lambda pk=chunk.pk: usage_chunk_process_task.delay(pk)  # type: ignore[misc]
            )
        return batch
    context = imports.BatchContext(batch=batch)
    try:
        for chunk in batch.chunks.filter(done=False).order_by("number"):
            _chunk_run(context, chunk, binary)
    except Exception as error:
        _batch_fail(batch, f"{type(error).__name__}: {error}")
        raise
    return _batch_finish(batch)


@transaction.atomic
def _batch_plan(
    plan: list[tuple[int, int, int]],
    *,
    source_kind: str,
    source: str,
    format: str,
    mapping: UsageMapping | None,
    fingerprint: str,
    file_name: str,
    file_path: str,
    actor: Actor | None,
    chunk_size: int,
    duplicate_of: UsageBatch | None,
    idempotency_key: str = "",
    header: str = "",
) -> UsageBatch:
    batch = UsageBatch.objects.create(
        header=header,
        source_kind=source_kind,
        source_name=source[:120],
        format=format,
        mapping=mapping,
        fingerprint=fingerprint,
        file_name=file_name[:255],
        file_path=file_path[:1000],
        status=UsageBatch.Status.PROCESSING,
        chunk_size=chunk_size,
        chunk_count=len(plan),
        created_by=actor if actor is not None and actor.is_authenticated else None,  # type: ignore[misc]
        duplicate_of=duplicate_of,
        idempotency_key=idempotency_key,
    )
    UsageBatchChunk.objects.bulk_create(
        UsageBatchChunk(batch=batch, number=n, offset=offset, first_line=first, line_count=count)
        for n, (offset, first, count) in enumerate(plan)
    )
    return batch


def _chunk_run(context: imports.BatchContext, chunk: UsageBatchChunk, binary: IO[bytes]) -> None:
    with gc_paused():
        records = imports.records_prepare(
            imports.chunk_records(context.batch, chunk, binary), context, timezone.now()
        )
        imports.chunk_load(context, chunk, records)


def usage_chunk_process(*, chunk: UsageBatchChunk) -> UsageBatch:
    """Load one chunk of a planned batch (what a Celery worker runs); a chunk already done is
    left alone. The last chunk to finish closes the batch."""
    batch = chunk.batch
    if chunk.done:
        return batch
    path = Path(batch.file_path)
    if not batch.file_path or not path.is_file():
        _batch_fail(batch, f"the file {batch.file_path or batch.file_name} cannot be read")
        raise ApplicationError(f"Batch {batch.public_id}: its file cannot be read.", code="no_file")
    with path.open("rb") as binary:
        _chunk_run(imports.batch_context(batch), chunk, binary)
    return _batch_finish(batch)


def _batch_finish(batch: UsageBatch) -> UsageBatch:
    updated = UsageBatch.objects.filter(
        pk=batch.pk,
        status__in=[UsageBatch.Status.PROCESSING, UsageBatch.Status.FAILED],
        chunks_done__gte=batch.chunk_count,
    ).exclude(chunks__done=False)
    updated.update(status=UsageBatch.Status.DONE, finished_at=timezone.now(), error="")
    batch.refresh_from_db()
    return batch


def _batch_fail(batch: UsageBatch, error: str) -> None:
    UsageBatch.objects.filter(pk=batch.pk).exclude(status=UsageBatch.Status.DONE).update(
        status=UsageBatch.Status.FAILED, error=error[:2000], updated_at=timezone.now()
    )


def usage_batch_ingest_records(
    *,
    records: list[dict[str, Any]],
    source: str,
    actor: Actor | None,
    idempotency_key: str = "",
) -> UsageBatch:
    """Load usage records sent as JSON (an API client, mediation): the same checks, dedup,
    guiding and rating as a file. Field names as in the generic mapping (record_id, service,
    calling_number, called_number, started_at in ISO 8601 …). Sending the same idempotency key
    again returns the batch it made; sending the same records again counts them duplicates."""
    if idempotency_key:
        existing = UsageBatch.objects.filter(
            source_name=source, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing
    chunk_size = settings.USAGE_CHUNK_SIZE
    plan = [
        (0, 1 + start, min(chunk_size, len(records) - start))
        for start in range(0, len(records), chunk_size)
    ]
    import hashlib

    fingerprint = hashlib.sha256(
        json.dumps(records, sort_keys=True, default=str).encode()
    ).hexdigest()
    batch = _batch_plan(
        plan,
        source_kind=UsageBatch.SourceKind.API,
        source=source,
        format=UsageBatch.Format.JSON,
        mapping=None,
        fingerprint=fingerprint,
        file_name="",
        file_path="",
        actor=actor,
        chunk_size=chunk_size,
        duplicate_of=None,
        idempotency_key=idempotency_key,
    )
    context = imports.BatchContext(batch=batch)
    read_time = time_reader("iso", UTC)
    chunks = list(batch.chunks.order_by("number"))
    for chunk in chunks:
        part = records[chunk.first_line - 1 : chunk.first_line - 1 + chunk.line_count]
        with gc_paused():
            parsed = [
                _api_record(values, chunk.first_line + i, read_time)
                for i, values in enumerate(part)
            ]
            prepared = imports.records_prepare(parsed, context, timezone.now())
            imports.chunk_load(context, chunk, prepared)
    return _batch_finish(batch)


def usage_records_charged_online(*, records: list[Record], source: str) -> UsageBatch:
    """Keep usage that online charging already priced and debited (prepaid events and
    sessions) as usage records: one batch, written as charged (status billed), never rated or
    debited again; a record sent twice counts as a duplicate. Each record carries its own
    `source_record_id`, charge, currency and line."""
    batch = _batch_plan(
        [(0, 1, len(records))],
        source_kind=UsageBatch.SourceKind.API,
        source=source,
        format=UsageBatch.Format.JSON,
        mapping=None,
        fingerprint="",
        file_name="",
        file_path="",
        actor=None,
        chunk_size=max(len(records), 1),
        duplicate_of=None,
    )
    context = imports.BatchContext(batch=batch)
    now = timezone.now()
    for number, record in enumerate(records, start=1):
        record.setdefault("line_number", number)
        record["dedup_key"] = dedup_key(batch.source_name, record["source_record_id"])
        record["status"] = UsageRecord.Status.BILLED
        record["rated_at"] = now
        record.setdefault("raw", "")
    imports.partitions_ensure(r["started_at"].date() for r in records)
    imports.chunk_write_charged(context, batch.chunks.get(), records)
    return _batch_finish(batch)


def _api_record(values: Any, number: int, read_time: Any) -> Record:
    raw = json.dumps(values, sort_keys=True, default=str)
    if not isinstance(values, dict):
        return {"reject_reason": "malformed_row", "reject_detail": "not an object", "raw": raw,
                "line_number": number}  # fmt: skip
    try:
        record = record_from_values(values, read_time)
    except FieldProblem as problem:
        return {
            "reject_reason": problem.reason,
            "reject_detail": problem.detail,
            "raw": raw,
            "line_number": number,
            "calling_number": str(values.get("calling_number") or ""),
            "called_number": str(values.get("called_number") or ""),
        }
    record["raw"] = raw
    record["line_number"] = number
    return record


# --- recycling -----------------------------------------------------------------------------------


def usage_recycle(
    *,
    records: QuerySet[UsageRecord] | Iterable[UsageRecord],
    actor: Actor,
    reason: str,
) -> dict[str, int]:
    """Run rejected records again once their cause is fixed (a line created, a tariff loaded,
    a mapping corrected): each is read again from its original row, checked, guided and rated,
    and ends rated or rejected with its new reason. Records not rejected are left alone.
    Returns counts by outcome ("rated", "rejected", "skipped")."""
    if not reason.strip():
        raise ApplicationError(
            "Say why these records are recycled.", fields={"reason": ["Required."]}
        )
    by_batch: dict[int, list[UsageRecord]] = {}
    skipped = 0
    for record in records:
        if record.status != UsageRecord.Status.REJECTED:
            skipped += 1
            continue
        by_batch.setdefault(record.batch_id, []).append(record)
    counts = {"rated": 0, "rejected": 0, "skipped": skipped}
    for batch_id, rows in by_batch.items():
        batch = UsageBatch.objects.get(pk=batch_id)
        done = {"rated": 0, "rejected": 0}
        for start in range(0, len(rows), 5000):
            outcome = _recycle_rows(batch, rows[start : start + 5000], actor, reason)
            done["rated"] += outcome["rated"]
            done["rejected"] += outcome["rejected"]
        counts["rated"] += done["rated"]
        counts["rejected"] += done["rejected"]
        if done["rated"] or done["rejected"]:
            # who recycled which batch's rejects, when and why (each record keeps it too)
            audit_record(
                actor=actor,
                instance=batch,
                action="recycled",
                changes={"rated": [None, done["rated"]], "rejected": [None, done["rejected"]]},
                reason=reason,
            )
    return counts


def _reparse(batch: UsageBatch, row: UsageRecord, read_time: Any) -> Record:
    if batch.format == UsageBatch.Format.JSON:
        try:
            values = json.loads(row.raw)
        except ValueError:
            values = None
        return _api_record(values, row.line_number, read_time)
    options = imports.parser_options(batch)
    parsed = list(PARSERS[batch.format]([row.raw + "\n"], first_line=row.line_number, **options))
    return parsed[0] if parsed else {"reject_reason": "malformed_row", "reject_detail": "empty",
                                     "raw": row.raw, "line_number": row.line_number}  # fmt: skip


@transaction.atomic
def _recycle_rows(
    batch: UsageBatch, rows: list[UsageRecord], actor: Actor, reason: str
) -> dict[str, int]:
    from billing.usage import lines as line_rating

    now = timezone.now()
    context = imports.BatchContext(batch=batch)
    read_time = imports.zone_named("UTC")
    from billing.usage.parsers.generic import time_reader as reader

    json_time = reader("iso", read_time)
    parsed = []
    for row in rows:
        record = _reparse(batch, row, json_time)
        record["source_record_id"] = record.get("source_record_id") or row.source_record_id
        parsed.append(record)
    prepared = imports.records_prepare(parsed, context, now)
    for record, row in zip(prepared, rows, strict=True):
        record["dedup_key"] = row.dedup_key.hex  # the record keeps its identity
        if not record.get("time_known", True):
            record["started_at"] = row.started_at
    # lock the rows being recycled: a second recycle of the same rows waits, then skips them
    locked = set(
        UsageRecord.objects.select_for_update()
        .filter(pk__in=[r.pk for r in rows], status=UsageRecord.Status.REJECTED)
        .values_list("pk", flat=True)
    )
    work = [(rec, row) for rec, row in zip(prepared, rows, strict=True) if row.pk in locked]
    fresh = [rec for rec, _ in work]
    lines = line_rating.records_guide(fresh, context.directory)
    guided = [r for r in fresh if "subscriber_id" in r]
    since = min((r["started_at"] for r in guided), default=now)
    line_rating.lines_lock(lines)
    grants = line_rating.grants_lock(lines, since) if lines else []
    outcome = line_rating.records_rate(
        guided, lines, resolver=context.resolver, grants=grants, now=now
    )
    line_rating.tier_counters_add(outcome.tier_units)
    prepaid = line_rating.prepaid_charges(guided, lines)
    counts = {"rated": 0, "rejected": 0}
    for record, row in work:
        history = {"at": now.isoformat(), "by": str(actor.pk), "reason": reason[:200],
                   "previous_reason": row.reject_reason}  # fmt: skip
        trace = dict(record.get("rating_trace") or {})
        trace["recycled"] = [*(row.rating_trace or {}).get("recycled", []), history]
        values = imports._model_values(record)
        values["rating_trace"] = trace
        if "reject_reason" in record:
            values["status"] = UsageRecord.Status.REJECTED
            counts["rejected"] += 1
        else:
            values["status"] = UsageRecord.Status.RATED
            values["reject_reason"] = ""
            values["reject_detail"] = ""
            counts["rated"] += 1
        fields = {
            k: v for k, v in values.items() if k in imports._MODEL_FIELDS and k != "dedup_key"
        }
        fields.setdefault("reject_reason", record.get("reject_reason", ""))
        UsageRecord.objects.filter(pk=row.pk, started_at=row.started_at).update(**fields)
    reference = f"usage batch {batch.pk} recycled"
    line_rating.grants_consume(grants, outcome.grants_used, reference=reference, at=now)
    line_rating.prepaid_debit(prepaid, reference=reference, at=now)
    _recount_after_recycle(batch)
    return counts


def _recount_after_recycle(batch: UsageBatch) -> None:
    """After recycling, the batch's counters are counted again from its records: a record now
    rated moves from rejected to rated, one rejected again keeps its count under its new
    reason (received = rated + rejected + duplicate still holds)."""
    from django.db.models import Count, Sum

    rows = UsageRecord.objects.filter(batch_id=batch.pk)
    rated = rows.filter(status__in=["rated", "billed", "rerated"])
    rejected = rows.filter(status="rejected")
    reasons = dict(
        rejected.values_list("reject_reason")
        .annotate(n=Count("pk"))
        .values_list("reject_reason", "n")
    )
    totals = {
        currency: str(amount)
        for currency, amount in rated.values_list("currency")
        .annotate(total=DecimalSum("charge_amount"))
        .values_list("currency", "total")
        if currency
    }
    locked = UsageBatch.objects.select_for_update().get(pk=batch.pk)
    rated_count = rated.count()
    rejected_count = rejected.count()
    voice_seconds = (
        rated.filter(service="voice").aggregate(s=Sum("duration_seconds"))["s"] or 0
    )  # minutes are calls'
    currency = next(iter(totals)) if len(totals) == 1 else ""
    UsageBatch.objects.filter(pk=batch.pk).update(
        rated_count=rated_count,
        rejected_count=rejected_count,
        received_count=rated_count + rejected_count + locked.duplicate_count,
        zero_charge_count=rated.filter(charge_amount=0).count(),
        reject_reasons=reasons,
        totals_by_currency=totals,
        currency=currency,
        total_amount=totals.get(currency, "0") if currency else 0,
        total_duration_seconds=voice_seconds,
        updated_at=timezone.now(),
    )


def usage_uploads_clean(*, now: Any = None) -> int:
    """Delete the stored copies of uploaded usage files once their batch is done and
    settings.USAGE_UPLOAD_RETENTION_DAYS have passed (a failed batch's file is kept that long
    again, for a retry); each deletion is audited as the system actor's. Only files under
    MEDIA_ROOT/usage/ are touched: a file an operator loaded from its own path is never
    deleted. Returns how many files were deleted."""
    from datetime import timedelta

    from common.actors import system_actor

    now = now or timezone.now()
    days = settings.USAGE_UPLOAD_RETENTION_DAYS
    folder = Path(settings.MEDIA_ROOT) / "usage"
    uploads = folder.resolve()
    stale = (
        UsageBatch.objects.filter(file_path__startswith=f"{folder}{os.sep}")
        .filter(
            Q(status=UsageBatch.Status.DONE, finished_at__lt=now - timedelta(days=days))
            | Q(status=UsageBatch.Status.FAILED, updated_at__lt=now - timedelta(days=2 * days))
        )
        .only("pk", "file_path")
    )
    actor = system_actor()
    deleted = 0
    for batch in stale.iterator():
        path = Path(batch.file_path).resolve()
        if not path.is_relative_to(uploads):  # a path that climbs out of the folder ("..")
            continue
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # each upload has a folder of its own
            path.parent.rmdir()
        with transaction.atomic():
            UsageBatch.objects.filter(pk=batch.pk).update(file_path="", updated_at=now)
            audit_record(
                actor=actor,
                instance=batch,
                action="upload deleted",
                changes={"file_path": [batch.file_path, ""]},
                reason=f"Stored upload kept {days} days after its batch ended",
            )
        deleted += 1
    if deleted:
        logger.info("deleted %d stored usage uploads past their retention", deleted)
    return deleted


def usage_mapping_save(
    *,
    name: str,
    columns: dict[str, str | int],
    actor: Actor,
    time_format: str = "iso",
    time_zone: str = "UTC",
    delimiter: str = ",",
    has_header: bool = True,
    defaults: dict[str, Any] | None = None,
) -> UsageMapping:
    """Save (or replace) a named column mapping for generic CSV files; a mapping that names
    unknown fields or lacks the start time is refused."""
    try:
        mapping_positions(columns, list(map(str, columns.values())))
    except MappingError as error:
        raise ApplicationError(
            str(error), code="invalid_mapping", fields={"columns": [str(error)]}
        ) from error
    try:
        imports.zone_named(time_zone)
    except Exception as error:
        raise ApplicationError(
            f"{time_zone!r} is not a time zone.", fields={"time_zone": ["Unknown zone."]}
        ) from error
    audited = ("columns", "time_format", "time_zone", "delimiter", "has_header", "defaults")
    earlier = UsageMapping.objects.filter(name=name).first()
    before = snapshot(earlier, audited) if earlier else {}
    with transaction.atomic():
        mapping, created = UsageMapping.objects.update_or_create(
            name=name,
            defaults={
                "columns": columns,
                "time_format": time_format,
                "time_zone": time_zone,
                "delimiter": delimiter,
                "has_header": has_header,
                "defaults": defaults or {},
            },
        )
        if actor is not None and getattr(actor, "pk", None):
            after = snapshot(mapping, audited)
            audit_record(
                actor=actor,
                instance=mapping,
                action="created" if created else "updated",
                changes=changes_created(after) if created else changes_between(before, after),
            )
    return mapping


__all__ = [
    "usage_batch_ingest_file",
    "usage_batch_ingest_records",
    "usage_chunk_process",
    "usage_mapping_save",
    "usage_partitions_ensure",
    "usage_recycle",
    "usage_uploads_clean",
]
