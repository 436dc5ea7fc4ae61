"""CGRateS tariff-plan CSV directories in and out of a `TariffPlan`.

An operator migrating from CGRateS uploads its tariff-plan folder (or a zip of it): the six
rating files `Destinations.csv`, `Rates.csv`, `DestinationRates.csv`, `Timings.csv`,
`RatingPlans.csv` and `RatingProfiles.csv`. Other files of the folder (accounts, actions,
filters …) are not rating data and are ignored. Every error names the file, the line and the
column, e.g. ``Rates.csv line 4 column RateUnit: "6O s" is not a duration``.

`write_tariff_plan_dir` writes a plan back in the current CGRateS format, so that
``read_tariff_plan_dir(write_tariff_plan_dir(plan)) == plan``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from billing.rating.plan import (
    ANY,
    ANY_DESTINATION,
    MAX_COST_STRATEGIES,
    ROUNDING_METHODS,
    ROUNDING_UP,
    SECOND,
    TIME_OF_DAY,
    Destination,
    DestinationRate,
    PlanError,
    Rate,
    RateSlot,
    RatingPlanBinding,
    RatingProfile,
    TariffPlan,
    Timing,
)

DESTINATIONS = "Destinations.csv"
RATES = "Rates.csv"
DESTINATION_RATES = "DestinationRates.csv"
TIMINGS = "Timings.csv"
RATING_PLANS = "RatingPlans.csv"
RATING_PROFILES = "RatingProfiles.csv"
RATING_FILES = (DESTINATIONS, RATES, DESTINATION_RATES, TIMINGS, RATING_PLANS, RATING_PROFILES)

COLUMNS = {
    DESTINATIONS: ("Id", "Prefix"),
    RATES: ("Id", "ConnectFee", "Rate", "RateUnit", "RateIncrement", "GroupIntervalStart"),
    DESTINATION_RATES: (
        "Id",
        "DestinationId",
        "RatesTag",
        "RoundingMethod",
        "RoundingDecimals",
        "MaxCost",
        "MaxCostStrategy",
    ),
    TIMINGS: ("Tag", "Years", "Months", "MonthDays", "WeekDays", "Time"),
    RATING_PLANS: ("Id", "DestinationRatesId", "TimingTag", "Weight"),
    RATING_PROFILES: (
        "Tenant",
        "Category",
        "Subject",
        "ActivationTime",
        "RatingPlanId",
        "RatesFallbackSubject",
    ),
}
# Before CGRateS 0.10 a rating profile row began with the call direction ("*out").
LEGACY_PROFILE_COLUMNS = ("Direction", *COLUMNS[RATING_PROFILES], "CdrStatQueueIds")

MAX_FILE_BYTES = 50 * 1024 * 1024  # per file, also the cap on a zip's uncompressed content

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": SECOND,
    "m": 60 * SECOND,
    "h": 3600 * SECOND,
}


def parse_duration(text: str) -> int:
    """A CGRateS duration in nanoseconds: Go syntax ("60s", "1m30s", "100ms", "1.5s") or a plain
    integer, which CGRateS reads as nanoseconds (the unit count for SMS and data: "1", "1024")."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    if not value:
        raise ValueError("empty duration")
    total = Decimal(0)
    position = 0
    for match in _DURATION_PART.finditer(value):
        if match.start() != position:
            break
        total += Decimal(match.group(1)) * _UNIT_NS[match.group(2)]
        position = match.end()
    if position != len(value) or position == 0:
        raise ValueError(f"{text!r} is not a duration (e.g. 60s, 1m, 100ms, or units: 1024)")
    if total != total.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number of nanoseconds")
    return int(total)


def format_duration(nanoseconds: int) -> str:
    """Inverse of `parse_duration`: whole seconds as "60s", anything else as plain units."""
    if nanoseconds and nanoseconds % SECOND == 0:
        return f"{nanoseconds // SECOND}s"
    return str(nanoseconds)


def parse_activation_time(text: str) -> datetime:
    """RFC 3339 ("2014-01-14T00:00:00Z"); a time without an offset is UTC, as CGRateS's loader
    reads it with the default "UTC" zone."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def format_activation_time(moment: datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _Row:
    """One CSV row with its file and line, so every error can say where it is."""

    __slots__ = ("cells", "columns", "file", "line")

    def __init__(self, file: str, line: int, cells: list[str], columns: tuple[str, ...]) -> None:
        self.file = file
        self.line = line
        self.cells = cells
        self.columns = columns

    def where(self, column: str | None = None) -> str:
        place = f"{self.file} line {self.line}"
        return f"{place} column {column}" if column else place

    def error(self, column: str | None, message: str, reason: str = "bad_value") -> PlanError:
        return PlanError(message, where=self.where(column), reason=reason)

    def get(self, column: str) -> str:
        index = self.columns.index(column)
        return self.cells[index] if index < len(self.cells) else ""

    def required(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise self.error(column, "is required", reason="missing_value")
        return value

    def decimal(self, column: str, *, default: str = "0") -> Decimal:
        value = self.get(column) or default
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.error(column, f"{value!r} is not a number") from None
        if not number.is_finite():
            raise self.error(column, f"{value!r} is not a number")
        return number

    def integer(self, column: str, *, default: int) -> int:
        value = self.get(column)
        if not value:
            return default
        try:
            return int(value)
        except ValueError:
            raise self.error(column, f"{value!r} is not a whole number") from None

    def duration(self, column: str) -> int:
        value = self.get(column)
        try:
            return parse_duration(value) if value else 0
        except ValueError as error:
            raise self.error(column, str(error)) from None

    def numbers(self, column: str, low: int, high: int) -> tuple[int, ...]:
        value = self.get(column)
        if value in ("", ANY):
            return ()
        numbers = []
        for part in value.split(";"):
            try:
                number = int(part)
            except ValueError:
                raise self.error(column, f"{part!r} is not a whole number") from None
            if not low <= number <= high:
                raise self.error(column, f"{number} is not between {low} and {high}")
            numbers.append(number)
        return tuple(numbers)


def _rows(name: str, text: str) -> Iterator[_Row]:
    columns = COLUMNS[name]
    for line_number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in cells]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        row_columns = columns
        if name == RATING_PROFILES and cells[0] in ("*out", "*in") and len(cells) >= 7:
            row_columns = LEGACY_PROFILE_COLUMNS
        if len(cells) < len(row_columns) - (1 if name == RATING_PROFILES else 0):
            missing = row_columns[len(cells)]
            raise PlanError(
                f"has {len(cells)} columns, {len(row_columns)} expected ({', '.join(row_columns)})",
                where=f"{name} line {line_number} column {missing}",
                reason="missing_column",
            )
        yield _Row(name, line_number, cells, row_columns)


def _decode(name: str, content: bytes) -> str:
    if len(content) > MAX_FILE_BYTES:
        raise PlanError(f"is larger than {MAX_FILE_BYTES} bytes", where=name, reason="too_large")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PlanError(
            f"is not UTF-8 text (byte {error.start})", where=name, reason="bad_encoding"
        ) from None


def read_tariff_plan_texts(texts: Mapping[str, str]) -> TariffPlan:
    """Build and validate a plan from the rating files' texts, keyed by file name."""
    present = [name for name in RATING_FILES if name in texts]
    if not present:
        raise PlanError(
            f"no CGRateS rating files found (expected {', '.join(RATING_FILES)})",
            reason="no_rating_files",
        )
    destinations: dict[str, list[str]] = {}
    destination_rows: dict[str, _Row] = {}
    for row in _rows(DESTINATIONS, texts.get(DESTINATIONS, "")):
        destination_id = row.required("Id")
        prefix = row.required("Prefix")
        if not re.fullmatch(r"\+?[0-9A-Za-z*#]{1,32}", prefix):
            raise row.error("Prefix", f"{prefix!r} is not a number prefix", reason="bad_prefix")
        prefixes = destinations.setdefault(destination_id, [])
        if prefix not in prefixes:
            prefixes.append(prefix)
        destination_rows.setdefault(destination_id, row)

    slots: dict[str, list[RateSlot]] = {}
    for row in _rows(RATES, texts.get(RATES, "")):
        rate_id = row.required("Id")
        connect_fee = row.decimal("ConnectFee")
        price = row.decimal("Rate")
        for column, number in (("ConnectFee", connect_fee), ("Rate", price)):
            if number < 0:
                raise row.error(column, "cannot be negative")
        # CGRateS reads a missing or zero unit or increment as one second.
        rate_unit = row.duration("RateUnit") or SECOND
        rate_increment = row.duration("RateIncrement") or SECOND
        group_start = row.duration("GroupIntervalStart")
        slot = RateSlot(connect_fee, price, rate_unit, rate_increment, group_start)
        existing = slots.setdefault(rate_id, [])
        if any(other.group_start == group_start for other in existing):
            raise row.error(
                "GroupIntervalStart",
                f"rate {rate_id} already has a group starting at {row.get('GroupIntervalStart')}",
                reason="duplicate",
            )
        existing.append(slot)

    destination_rates: list[DestinationRate] = []
    destination_rate_ids: set[str] = set()
    for row in _rows(DESTINATION_RATES, texts.get(DESTINATION_RATES, "")):
        destination_id = row.required("DestinationId")
        if destination_id != ANY_DESTINATION and destination_id not in destinations:
            raise row.error(
                "DestinationId", f"unknown destination {destination_id!r}", reason="unknown"
            )
        rate_id = row.required("RatesTag")
        if rate_id not in slots:
            raise row.error("RatesTag", f"unknown rate {rate_id!r}", reason="unknown")
        method = row.get("RoundingMethod") or ROUNDING_UP
        if method not in ROUNDING_METHODS:
            raise row.error(
                "RoundingMethod",
                f"{method!r} is not one of {', '.join(ROUNDING_METHODS)}",
            )
        decimals = row.integer("RoundingDecimals", default=4)
        if not 0 <= decimals <= 10:
            raise row.error("RoundingDecimals", f"{decimals} is not between 0 and 10")
        max_cost = row.decimal("MaxCost")
        if max_cost < 0:
            raise row.error("MaxCost", "cannot be negative")
        strategy = row.get("MaxCostStrategy")
        if strategy not in MAX_COST_STRATEGIES:
            raise row.error(
                "MaxCostStrategy",
                f"{strategy!r} is not one of {', '.join(s for s in MAX_COST_STRATEGIES if s)}",
            )
        destination_rates.append(
            DestinationRate(
                id=row.required("Id"),
                destination_id=destination_id,
                rate_id=rate_id,
                rounding_method=method,
                rounding_decimals=decimals,
                max_cost=max_cost,
                max_cost_strategy=strategy,
            )
        )
        destination_rate_ids.add(destination_rates[-1].id)

    timings: list[Timing] = []
    for row in _rows(TIMINGS, texts.get(TIMINGS, "")):
        start_time, end_time = _time_column(row)
        timings.append(
            Timing(
                id=row.required("Tag"),
                years=row.numbers("Years", 1, 9999),
                months=row.numbers("Months", 1, 12),
                month_days=row.numbers("MonthDays", 1, 31),
                week_days=row.numbers("WeekDays", 0, 7),
                start_time=start_time,
                end_time=end_time,
            )
        )
        if timings[-1].id in {t.id for t in timings[:-1]}:
            raise row.error("Tag", f"timing {timings[-1].id!r} is defined twice", "duplicate")
    timing_ids = {t.id for t in timings} | {ANY}

    bindings: list[RatingPlanBinding] = []
    for row in _rows(RATING_PLANS, texts.get(RATING_PLANS, "")):
        destination_rates_id = row.required("DestinationRatesId")
        if destination_rates_id not in destination_rate_ids:
            raise row.error(
                "DestinationRatesId",
                f"unknown destination rates {destination_rates_id!r}",
                reason="unknown",
            )
        timing_id = row.get("TimingTag") or ANY
        if timing_id not in timing_ids:
            raise row.error("TimingTag", f"unknown timing {timing_id!r}", reason="unknown")
        bindings.append(
            RatingPlanBinding(
                rating_plan_id=row.required("Id"),
                destination_rates_id=destination_rates_id,
                timing_id=timing_id,
                weight=row.decimal("Weight"),
            )
        )
    plan_ids = {b.rating_plan_id for b in bindings}

    profiles: list[RatingProfile] = []
    for row in _rows(RATING_PROFILES, texts.get(RATING_PROFILES, "")):
        if row.columns is LEGACY_PROFILE_COLUMNS and row.get("Direction") != "*out":
            continue  # CGRateS only ever rated the "*out" direction
        activation = row.required("ActivationTime")
        try:
            activation_time = parse_activation_time(activation)
        except ValueError:
            raise row.error(
                "ActivationTime", f"{activation!r} is not a time like 2014-01-14T00:00:00Z"
            ) from None
        rating_plan_id = row.required("RatingPlanId")
        if rating_plan_id not in plan_ids:
            raise row.error("RatingPlanId", f"unknown rating plan {rating_plan_id!r}", "unknown")
        fallback = row.get("RatesFallbackSubject")
        profiles.append(
            RatingProfile(
                tenant=row.required("Tenant"),
                category=row.required("Category"),
                subject=row.required("Subject"),
                activation_time=activation_time,
                rating_plan_id=rating_plan_id,
                fallback_subjects=tuple(s.strip() for s in fallback.split(";") if s.strip()),
            )
        )

    plan = TariffPlan(
        destinations=tuple(Destination(id=k, prefixes=tuple(v)) for k, v in destinations.items()),
        rates=tuple(
            Rate(id=k, slots=tuple(sorted(v, key=lambda slot: slot.group_start)))
            for k, v in slots.items()
        ),
        timings=tuple(timings),
        destination_rates=tuple(destination_rates),
        rating_plans=tuple(bindings),
        rating_profiles=tuple(profiles),
    )
    return plan.validate()


def _time_column(row: _Row) -> tuple[str, str]:
    value = row.get("Time")
    if value in ("", "*asap", ANY):
        return "", ""
    parts = value.split(";")
    if len(parts) > 2:
        raise row.error("Time", f"{value!r} is not HH:MM:SS or HH:MM:SS;HH:MM:SS")
    for index, part in enumerate(parts):
        if (part or index == 1) and not TIME_OF_DAY.fullmatch(part):
            raise row.error("Time", f"{part!r} is not a time of day HH:MM:SS")
    return parts[0], parts[1] if len(parts) == 2 else ""


def read_tariff_plan_files(files: Mapping[str, IO[bytes] | bytes]) -> TariffPlan:
    """Read the rating files given as file objects or bytes by name; other names are ignored.
    Names may carry folders ("tariffplan/Rates.csv"): only the file name counts."""
    texts: dict[str, str] = {}
    for name, content in files.items():
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if base not in RATING_FILES:
            continue
        if base in texts:
            raise PlanError(f"{base} is given twice", where=name, reason="duplicate")
        data = content if isinstance(content, bytes) else content.read(MAX_FILE_BYTES + 1)
        texts[base] = _decode(base, data)
    return read_tariff_plan_texts(texts)


def read_tariff_plan_zip(file: IO[bytes] | bytes) -> TariffPlan:
    """Read a zip of a CGRateS tariff-plan folder (the back office's upload)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(file) if isinstance(file, bytes) else file)
    except zipfile.BadZipFile:
        raise PlanError("the upload is not a zip file", reason="bad_zip") from None
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and not info.filename.startswith("__MACOSX/")
            and info.filename.rsplit("/", 1)[-1] in RATING_FILES
        ]
        if sum(info.file_size for info in members) > MAX_FILE_BYTES:
            raise PlanError(
                f"the zip holds more than {MAX_FILE_BYTES} bytes of rating files",
                reason="too_large",
            )
        files: dict[str, bytes] = {}
        for info in members:
            with archive.open(info) as member:
                files[info.filename] = member.read(MAX_FILE_BYTES + 1)
    return read_tariff_plan_files(files)


def read_tariff_plan_dir(directory: str | Path) -> TariffPlan:
    """Read a CGRateS tariff-plan folder from disk."""
    folder = Path(directory)
    if not folder.is_dir():
        raise PlanError(f"{folder} is not a directory", reason="not_found")
    files = {
        name: (folder / name).read_bytes() for name in RATING_FILES if (folder / name).exists()
    }
    if not files:
        raise PlanError(
            f"no CGRateS rating files in {folder} (expected {', '.join(RATING_FILES)})",
            reason="no_rating_files",
        )
    return read_tariff_plan_files(files)


def tariff_plan_texts(plan: TariffPlan) -> dict[str, str]:
    """The plan as the texts of the six rating files, in CGRateS's current format."""
    tables: dict[str, list[list[str]]] = {name: [] for name in RATING_FILES}
    for destination in plan.destinations:
        for prefix in destination.prefixes:
            tables[DESTINATIONS].append([destination.id, prefix])
    for rate in plan.rates:
        for slot in rate.slots:
            tables[RATES].append(
                [
                    rate.id,
                    str(slot.connect_fee),
                    str(slot.price),
                    format_duration(slot.rate_unit),
                    format_duration(slot.rate_increment),
                    format_duration(slot.group_start) if slot.group_start else "0s",
                ]
            )
    for row in plan.destination_rates:
        tables[DESTINATION_RATES].append(
            [
                row.id,
                row.destination_id,
                row.rate_id,
                row.rounding_method,
                str(row.rounding_decimals),
                str(row.max_cost),
                row.max_cost_strategy,
            ]
        )
    for timing in plan.timings:
        time = f"{timing.start_time};{timing.end_time}" if timing.end_time else timing.start_time
        tables[TIMINGS].append(
            [
                timing.id,
                _numbers(timing.years),
                _numbers(timing.months),
                _numbers(timing.month_days),
                _numbers(timing.week_days),
                time,
            ]
        )
    for binding in plan.rating_plans:
        tables[RATING_PLANS].append(
            [
                binding.rating_plan_id,
                binding.destination_rates_id,
                binding.timing_id,
                str(binding.weight),
            ]
        )
    for profile in plan.rating_profiles:
        tables[RATING_PROFILES].append(
            [
                profile.tenant,
                profile.category,
                profile.subject,
                format_activation_time(profile.activation_time),
                profile.rating_plan_id,
                ";".join(profile.fallback_subjects),
            ]
        )
    texts = {}
    for name, rows in tables.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["#" + COLUMNS[name][0], *COLUMNS[name][1:]])
        writer.writerows(rows)
        texts[name] = buffer.getvalue()
    return texts


def _numbers(values: tuple[int, ...]) -> str:
    return ";".join(str(v) for v in values) if values else ANY


def write_tariff_plan_dir(plan: TariffPlan, directory: str | Path) -> Path:
    """Write the six rating files into `directory` (created if missing); returns it."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tariff_plan_texts(plan).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def tariff_plan_zip(plan: TariffPlan) -> bytes:
    """The six rating files zipped, for the back office's download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in tariff_plan_texts(plan).items():
            archive.writestr(name, text)
    return buffer.getvalue()
