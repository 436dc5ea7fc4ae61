"""Imports into the number pool and SIM stock: a range of numbers, a supplier's file of SIMs.

Both are bounded, validated up front and written set-based: on PostgreSQL one INSERT … SELECT
FROM unnest(…) per chunk, with the first InventoryEvent of every row written in the same
statement or the next; elsewhere (SQLite, a newcomer's database) through the ORM.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.errors import ApplicationError, FieldErrors
from common.money import Money
from crm.models import Subscriber, User
from crm.validators import iccid_clean, imsi_clean, msisdn_clean, msisdn_display
from orders.inventory.models import InventoryEvent, Msisdn, SimBatch, SimCard

REASON_MAX = 200
INSERT_CHUNK = 5000
SQL_CHUNK = 50_000
PUK_PATTERN = re.compile(r"\d{8}")
BAD_NUMBERS_SHOWN = 5


# --- number range import -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RangeImportResult:
    requested: int
    created: int  # added to the pool as available
    in_use: int  # added as assigned: a live line already has the number
    skipped: int  # already in the pool, left as they were


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _mobile_pattern() -> re.Pattern[str]:
    """The operator country's mobile numbering pattern, from the phonenumbers metadata.

    It is the test `msisdn_clean` makes, compiled once so a range of 100,000 numbers is
    checked in a tenth of a second instead of several seconds.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(settings.OPERATOR_COUNTRY)
    if metadata is None or metadata.mobile is None or not metadata.mobile.national_number_pattern:
        raise ApplicationError(f"No numbering plan is known for {settings.OPERATOR_COUNTRY}.")
    return re.compile(metadata.mobile.national_number_pattern)


def _price_check(category: str, price: Money | None, errors: FieldErrors) -> Money:
    currency = price.currency if price is not None else settings.DEFAULT_CURRENCY
    amount = price.amount if price is not None else Decimal("0")
    if currency not in settings.CURRENCIES:
        errors.add("currency", f"{currency} is not a currency the operator sells in.")
    if not amount.is_finite() or amount < 0:
        errors.add("price", "A price cannot be negative.")
    elif amount != amount.quantize(Decimal(1).scaleb(-settings.MONEY_DECIMAL_PLACES)):
        errors.add("price", f"At most {settings.MONEY_DECIMAL_PLACES} decimal places.")
    elif amount == 0 and category in (Msisdn.Category.SILVER, Msisdn.Category.GOLDEN):
        errors.add("price", f"A {category} number carries a price: give one.")
    return Money(amount, currency)


@transaction.atomic
def msisdn_range_import(
    *,
    first: str,
    last: str,
    category: str,
    actor: User,
    price: Money | None = None,
) -> RangeImportResult:
    """Add a range of the operator's numbers to the pool, set-based.

    Every number must be a mobile number of the operator's country. Numbers already in the pool
    are skipped and counted; numbers that live lines already use (lines connected before the
    pool existed) are added as assigned, so they can never be sold a second time.
    """
    errors = FieldErrors()
    first_e164 = errors.clean("first", msisdn_clean, first)
    last_e164 = errors.clean("last", msisdn_clean, last)
    if category not in Msisdn.Category.values:
        errors.add("category", f"{category!r} is not a number category.")
    money = _price_check(category, price, errors)
    errors.raise_if_any()
    prefix = f"+{phonenumbers.country_code_for_region(settings.OPERATOR_COUNTRY)}"
    first_national, last_national = first_e164[len(prefix) :], last_e164[len(prefix) :]
    if len(first_national) != len(last_national):
        errors.add("last", "The last number must have as many digits as the first.")
    elif int(last_national) < int(first_national):
        errors.add("last", "The last number comes before the first.")
    else:
        size = int(last_national) - int(first_national) + 1
        if size > settings.MSISDN_RANGE_MAX:
            errors.add(
                "last",
                f"A range holds at most {settings.MSISDN_RANGE_MAX:,} numbers; "
                f"this one has {size:,}.",
            )
    errors.raise_if_any()

    width = len(first_national)
    nationals = [f"{n:0{width}d}" for n in range(int(first_national), int(last_national) + 1)]
    pattern = _mobile_pattern()
    bad = [n for n in nationals if not pattern.fullmatch(n)]
    if bad:
        examples = ", ".join(msisdn_display(prefix + n) for n in bad[:BAD_NUMBERS_SHOWN])
        hidden = len(bad) - BAD_NUMBERS_SHOWN
        more = f" and {hidden:,} more" if hidden > 0 else ""
        country = settings.OPERATOR_COUNTRY
        message = (
            f"{len(bad):,} number{'s' if len(bad) != 1 else ''} in this range "
            f"{'are' if len(bad) != 1 else 'is'} not a mobile number of {country}: "
            f"{examples}{more}. Split the range."
        )
        raise ApplicationError(message, code="invalid_range", fields={"range": [message]})

    numbers = [prefix + n for n in nationals]
    wanted = set(numbers)
    existing = {
        n
        for n in Msisdn.objects.filter(number__gte=first_e164, number__lte=last_e164)
        .values_list("number", flat=True)
        .iterator(chunk_size=INSERT_CHUNK)
        if n in wanted
    }
    live = {
        n
        for n in Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
        .filter(msisdn__gte=first_e164, msisdn__lte=last_e164)
        .values_list("msisdn", flat=True)
        .iterator(chunk_size=INSERT_CHUNK)
        if n in wanted
    }
    fresh = [n for n in numbers if n not in existing]
    in_use = [n for n in fresh if n in live]
    free = [n for n in fresh if n not in live] if live else fresh
    created = _msisdn_insert(
        free,
        status=Msisdn.Status.AVAILABLE,
        category=category,
        price=money,
        actor=actor,
        reason="Imported",
    )
    assigned = _msisdn_insert(
        in_use,
        status=Msisdn.Status.ASSIGNED,
        category=category,
        price=money,
        actor=actor,
        reason="Imported; a live line already has this number",
    )
    return RangeImportResult(
        requested=len(numbers),
        created=created,
        in_use=assigned,
        skipped=len(numbers) - created - assigned,
    )


def _msisdn_insert(
    numbers: Sequence[str],
    *,
    status: str,
    category: str,
    price: Money,
    actor: User,
    reason: str,
) -> int:
    """Insert numbers (skipping any a concurrent import added) with their first event.

    On PostgreSQL one statement per chunk does both: an INSERT … ON CONFLICT DO NOTHING whose
    RETURNING feeds the events' INSERT. Elsewhere (SQLite) the ORM writes them.
    """
    if not numbers:
        return 0
    now = timezone.now()
    created = 0
    if connection.vendor == "postgresql":
        msisdn_table = Msisdn._meta.db_table
        event_table = InventoryEvent._meta.db_table
        sql = (
            f'WITH created AS (INSERT INTO "{msisdn_table}" '
            "(created_at, updated_at, number, category, price_amount, currency, status, "
            "reservation_ref) "
            "SELECT %s, %s, n, %s, %s, %s, %s, '' FROM unnest(%s::varchar[]) AS n "
            "ON CONFLICT (number) DO NOTHING RETURNING id) "
            f'INSERT INTO "{event_table}" '
            "(msisdn_id, old_status, new_status, actor_id, reason, created_at) "
            "SELECT id, '', %s, %s, %s, %s FROM created"
        )
        with connection.cursor() as cursor:
            for chunk in _chunks(numbers, SQL_CHUNK):
                params: list[Any] = [now, now, category, price.amount, price.currency, status]
                cursor.execute(sql, [*params, list(chunk), status, actor.pk, reason, now])
                created += cursor.rowcount
        return created
    for chunk in _chunks(numbers, INSERT_CHUNK):
        Msisdn.objects.bulk_create(
            [
                Msisdn(
                    number=number,
                    category=category,
                    price_amount=price.amount,
                    currency=price.currency,
                    status=status,
                    created_at=now,
                )
                for number in chunk
            ],
            ignore_conflicts=True,
        )
        new_pks = list(
            Msisdn.objects.filter(number__in=chunk, created_at=now).values_list("pk", flat=True)
        )
        InventoryEvent.objects.bulk_create(
            InventoryEvent(
                msisdn_id=pk,
                old_status="",
                new_status=status,
                actor=actor,
                reason=reason,
                created_at=now,
            )
            for pk in new_pks
        )
        created += len(new_pks)
    return created


# --- SIM batch import --------------------------------------------------------------------------

SIM_COLUMNS = ("iccid", "imsi", "puk")


@dataclass(slots=True)
class _SimRow:
    line: int
    iccid: str
    imsi: str
    puk: str


def _csv_text(file: IO[bytes], errors: FieldErrors) -> str:
    size = getattr(file, "size", None)
    limit = settings.SIM_BATCH_MAX_BYTES
    if size is not None and size > limit:
        errors.add("file", f"The file is larger than {limit // (1024 * 1024)} MB.")
        return ""
    raw = file.read(limit + 1)
    if len(raw) > limit:
        errors.add("file", f"The file is larger than {limit // (1024 * 1024)} MB.")
        return ""
    try:
        return raw.decode("utf-8-sig") if isinstance(raw, bytes) else str(raw)
    except UnicodeDecodeError:
        errors.add("file", "The file is not a CSV text file (UTF-8).")
        return ""


def _sim_rows(text: str, problems: dict[int, list[str]], errors: FieldErrors) -> list[_SimRow]:
    """Parse and check every row; problems are collected per line number, not raised."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[_SimRow] = []
    seen_iccid: dict[str, int] = {}
    seen_imsi: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
            missing = [c for c in SIM_COLUMNS if c not in header]
            if missing:
                errors.add(
                    "file",
                    f"Line {line}: the header row must name the columns iccid, imsi and puk; "
                    f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing.",
                )
                return []
            continue
        if len(rows) >= settings.SIM_BATCH_MAX_ROWS:
            errors.add("file", f"A batch holds at most {settings.SIM_BATCH_MAX_ROWS:,} SIMs.")
            return []
        values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
        if len(cells) < len(header):
            problems.setdefault(line, []).append(
                f"{len(cells)} values where the header names {len(header)}"
            )
            continue
        found = problems.setdefault(line, [])
        iccid = _clean_cell(iccid_clean, values["iccid"], "ICCID", found)
        imsi = _clean_cell(imsi_clean, values["imsi"], "IMSI", found)
        puk = values["puk"]
        if not PUK_PATTERN.fullmatch(puk):
            found.append("A PUK has exactly 8 digits")
        if iccid and iccid in seen_iccid:
            found.append(f"ICCID {iccid} repeats line {seen_iccid[iccid]}")
        if imsi and imsi in seen_imsi:
            found.append(f"IMSI {imsi} repeats line {seen_imsi[imsi]}")
        if iccid:
            seen_iccid.setdefault(iccid, line)
        if imsi:
            seen_imsi.setdefault(imsi, line)
        if not found:
            del problems[line]
        rows.append(_SimRow(line, iccid, imsi, puk))
    if header is None:
        errors.add("file", "The file is empty: it needs a header row iccid,imsi,puk and SIMs.")
    elif not rows:
        errors.add("file", "The file has a header row but no SIMs.")
    return rows


def _clean_cell(cleaner: Any, raw: str, label: str, found: list[str]) -> str:
    try:
        return str(cleaner(raw))
    except ValidationError as exc:
        found.extend(f"{label}: {message.rstrip('.')}" for message in exc.messages)
        return ""


def _sim_clashes(rows: list[_SimRow], problems: dict[int, list[str]]) -> None:
    """Refuse SIMs already in stock or on a live line."""
    for chunk in _chunks(rows, INSERT_CHUNK):
        iccids = {row.iccid: row.line for row in chunk if row.iccid}
        imsis = {row.imsi: row.line for row in chunk if row.imsi}
        stocked = SimCard.objects.filter(iccid__in=iccids).values_list("iccid", "batch__name")
        for iccid, batch_name in stocked:
            problems.setdefault(iccids[iccid], []).append(
                f"ICCID {iccid} is already in stock (batch “{batch_name}”)"
            )
        for imsi, batch_name in SimCard.objects.filter(imsi__in=imsis).values_list(
            "imsi", "batch__name"
        ):
            problems.setdefault(imsis[imsi], []).append(
                f"IMSI {imsi} is already in stock (batch “{batch_name}”)"
            )
        live = Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
        for iccid, msisdn in live.filter(iccid__in=iccids).values_list("iccid", "msisdn"):
            problems.setdefault(iccids[iccid], []).append(
                f"ICCID {iccid} is the SIM of live line {msisdn_display(msisdn)}"
            )
        for imsi, msisdn in live.filter(imsi__in=imsis).values_list("imsi", "msisdn"):
            problems.setdefault(imsis[imsi], []).append(
                f"IMSI {imsi} belongs to live line {msisdn_display(msisdn)}"
            )


@transaction.atomic
def sim_batch_import(*, file: IO[bytes], name: str, actor: User) -> SimBatch:
    """Add a supplier's file of SIMs to stock, all or nothing.

    The CSV has a header row naming iccid, imsi and puk. A file with any bad line writes
    nothing, and the error lists every bad line with its reasons, so the supplier's file is
    fixed once rather than line by line.
    """
    errors = FieldErrors()
    name = " ".join((name or "").split())
    if not name:
        errors.add("name", "Name the batch, e.g. the supplier's delivery number.")
    elif len(name) > 120:
        errors.add("name", "At most 120 characters.")
    problems: dict[int, list[str]] = {}
    text = _csv_text(file, errors)
    rows = [] if "file" in errors.fields else _sim_rows(text, problems, errors)
    if rows and not errors.fields:
        _sim_clashes(rows, problems)
    for line in sorted(problems):
        errors.add("file", f"Line {line}: {'; '.join(problems[line])}.")
    if errors.fields:
        bad = len(problems)
        message = (
            f"Nothing was imported: {bad} line{'s are' if bad != 1 else ' is'} not valid."
            if bad
            else "Nothing was imported."
        )
        raise ApplicationError(message, code="invalid_file", fields=errors.fields)
    batch = SimBatch.objects.create(
        name=name,
        file_name=str(getattr(file, "name", "") or "")[:200],
        imported_by=actor,
        card_count=len(rows),
    )
    try:
        with transaction.atomic():
            _sim_insert(batch, rows)
    except IntegrityError as exc:
        raise ApplicationError(
            "Some of these SIMs were imported by someone else a moment ago; nothing was "
            "imported. Try again to see which.",
            code="conflict",
        ) from exc
    event_table = InventoryEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{event_table}" '
            "(sim_id, old_status, new_status, actor_id, reason, created_at) "
            f'SELECT id, %s, %s, %s, %s, %s FROM "{SimCard._meta.db_table}" WHERE batch_id = %s',
            [
                "",
                SimCard.Status.IN_STOCK,
                actor.pk,
                f"Imported in batch “{batch.name}”"[:REASON_MAX],
                connection.ops.adapt_datetimefield_value(timezone.now()),
                batch.pk,
            ],
        )
    return batch


def _sim_insert(batch: SimBatch, rows: list[_SimRow]) -> None:
    now = timezone.now()
    if connection.vendor == "postgresql":
        sql = (
            f'INSERT INTO "{SimCard._meta.db_table}" '
            "(created_at, updated_at, iccid, imsi, puk, batch_id, status, reservation_ref) "
            "SELECT %s, %s, i, m, p, %s, %s, '' "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[]) AS t(i, m, p)"
        )
        with connection.cursor() as cursor:
            for chunk in _chunks(rows, SQL_CHUNK):
                cursor.execute(
                    sql,
                    [
                        now,
                        now,
                        batch.pk,
                        SimCard.Status.IN_STOCK,
                        [row.iccid for row in chunk],
                        [row.imsi for row in chunk],
                        [row.puk for row in chunk],
                    ],
                )
        return
    SimCard.objects.bulk_create(
        (
            SimCard(iccid=row.iccid, imsi=row.imsi, puk=row.puk, batch=batch, created_at=now)
            for row in rows
        ),
        batch_size=INSERT_CHUNK,
    )
