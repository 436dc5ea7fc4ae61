"""Set-based writes for bulk loads (demo data, benchmarks): COPY on PostgreSQL, multi-row
INSERT elsewhere. The caller gives ready column values; no model save() or signal runs."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk step. Its passes are triggered by the
    count of new objects: a chunk of 20,000 records as dicts triggers hundreds, each walking
    every live object, which measured cost more than the rating itself. Records hold no
    reference cycles, so reference counting frees them all the same."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def ids_reserve(model: type[models.Model], count: int) -> int:
    """First of `count` consecutive primary keys reserved for `model`."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            first = int(cursor.fetchone()[0])
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first + count - 1]
            )
            return first
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        return int(cursor.fetchone()[0]) + 1


def rows_write(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    table = model._meta.db_table
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            column_sql = ", ".join(f'"{c}"' for c in columns)
            with cursor.cursor.copy(f'COPY "{table}" ({column_sql}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        # Elsewhere (SQLite, the newcomer's database) values go through the fields' own
        # conversion; it is slower, which only matters for the benchmark size on PostgreSQL.
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        fields = [by_attname[c] for c in columns]
        rows = (
            [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
            for row in rows
        )
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({placeholders})'
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written
