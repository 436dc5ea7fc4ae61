"""Streaming parsers of usage files: each reads lines one at a time and yields usage record
dicts or rejects with a machine-readable reason (never reading the whole file)."""

from __future__ import annotations

from billing.usage.parsers import asterisk, freeswitch, generic
from billing.usage.parsers.common import (
    MappingError,
    Numbers,
    Record,
    dedup_key,
    future_limit,
    record_check,
    reject,
    zone_named,
)

PARSERS = {"asterisk": asterisk.parse, "freeswitch": freeswitch.parse, "csv": generic.parse}

__all__ = [
    "PARSERS",
    "MappingError",
    "Numbers",
    "Record",
    "dedup_key",
    "future_limit",
    "record_check",
    "reject",
    "zone_named",
]
