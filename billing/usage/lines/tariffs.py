"""What rates usage beyond allowances and tiers: the tariff a line's plan resolves to, the
descriptors the rating engine takes and the trace kept of its answer."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any, Protocol

import orjson
from django.conf import settings

from billing.rating.plan import SECOND
from billing.usage.parsers import Record

# --- tariffs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tariff:
    """What rates a plan's usage beyond allowances and tiers.

    `engine.rate_many(calls)` takes descriptors built by `describe(tenant=, category=,
    subject=, destination=, answer_time=, usage=)` (billing.rating.engine.CallDescriptor) and
    returns one result per call: an object with `cost` (Decimal) and `trace`, or an error with
    `reason`."""

    version_id: int | None
    engine: Any
    currency: str
    describe: Callable[..., Any]
    tenant: str = ""
    subject: str = ""
    categories: Mapping[str, str] = field(default_factory=dict)


class TariffResolver(Protocol):
    def __call__(self, *, plan_id: int | None) -> Tariff | None: ...


def plan_tariff_resolver(*, plan_id: int | None) -> Tariff | None:
    """The default resolver: no tariff. Usage beyond allowances is priced by the plan's charging
    tiers; where the plan has none it is rejected `no_rate` (and recycled once a tariff is
    configured). Stored tariff versions plug in through settings.USAGE_TARIFF_RESOLVER."""
    return None


@cache
def _resolver_at(path: str) -> TariffResolver:
    module, _, name = path.rpartition(".")
    resolver: TariffResolver = getattr(importlib.import_module(module), name)
    return resolver


def tariff_resolver() -> TariffResolver:
    return _resolver_at(settings.USAGE_TARIFF_RESOLVER)


_TRACE_FIELDS = (
    "subject",
    "rating_plan_id",
    "destination_id",
    "matched_prefix",
    "destination_rate_id",
    "usage_rated",
)


_COMPACT: dict[type, bool] = {}


def tariff_trace(result: Any) -> Any:
    """What rated the usage: the subject, rating plan, destination and prefix matched, the
    destination rate and the usage rated, with the cost. Rating is deterministic in the
    tariff version, answer time and usage kept on the record, so the engine's part-by-part
    trace can be produced again on demand; storing it for every one of millions of records
    would cost more than rating them."""
    summary = getattr(result, "summary", None)
    if isinstance(summary, dict):  # the rating engine's own, shared between like calls
        return summary
    kind = type(result)
    compact_ok = _COMPACT.get(kind)
    if compact_ok is None:
        compact_ok = _COMPACT[kind] = all(hasattr(result, name) for name in _TRACE_FIELDS)
    if not compact_ok:
        return _jsonable(getattr(result, "trace", None))
    compact = {name: getattr(result, name) for name in _TRACE_FIELDS}
    compact["cost"] = str(result.cost)
    return compact


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


@cache
def _operator_name() -> str:
    return str(settings.OPERATOR_NAME)


def call_descriptor(tariff: Tariff, record: Record, left: Decimal) -> Any:
    service = record["service"]
    if service == "voice":
        usage = int(left * 60) * SECOND
    elif service == "data":
        usage = int(left * 1_000_000)
    else:
        usage = int(left)
    destination = record.get("called_e164", "").lstrip("+") or record.get("called_number", "")
    if service == "data":
        destination = record.get("apn") or "*any"
    return tariff.describe(
        tenant=tariff.tenant or _operator_name(),
        category=tariff.categories.get(service, "call"),
        subject=tariff.subject,
        destination=destination,
        answer_time=record.get("answered_at") or record["started_at"],
        usage=usage,
        tor="*" + service,
    )


def _json_default(value: Any) -> str:
    return str(value)  # Decimals, UUIDs: as their text, like the rest of the trace


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


# The JSON of a trace that is only the tariff's summary, by the summary (the engine shares one
# summary between calls of the same shape, so a file's many like calls are written once each).
_TARIFF_ONLY_JSON: dict[int, tuple[Any, str]] = {}


def trace_json(trace: Any) -> str:
    """A rating trace as JSON text (orjson: a tenth of json.dumps's time, which counted on the
    loading path of millions of records)."""
    steps = trace.get("steps") if type(trace) is dict and len(trace) == 1 else None
    if type(steps) is not list or len(steps) != 1 or steps[0].keys() != {"tariff"}:
        return _dumps(trace)
    summary = steps[0]["tariff"]
    kept = _TARIFF_ONLY_JSON.get(id(summary))
    if kept is not None and kept[0] is summary:  # the same object, not a reused id
        return kept[1]
    text = _dumps(trace)
    if len(_TARIFF_ONLY_JSON) >= 50_000:
        _TARIFF_ONLY_JSON.clear()
    _TARIFF_ONLY_JSON[id(summary)] = (summary, text)
    return text
