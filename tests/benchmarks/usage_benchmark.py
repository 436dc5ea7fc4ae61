"""Usage ingestion end to end on PostgreSQL: a million mixed voice and SMS records from CSV.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/telecrm_use \\
        .venv/bin/python tests/benchmarks/usage_benchmark.py [--records 1000000] [--lines 10000] \\
        [--processes 2] [--floor]

Writes (once, reused on later runs) an Asterisk Master.csv of calls (loguniqueid on) and a
generic CSV of SMS read through a saved column mapping, 60/40, with a few percent of
unanswered calls, unknown numbers and malformed rows; loads --lines postpaid and prepaid lines,
a third of them with voice and SMS allowances and half on a plan with SMS charging tiers.
Then times `usage_batch_ingest_file` on both files (parse, check, dedup, guide, allowances,
tiers, tariff, COPY, control totals) from an empty record table, and prints records per second,
peak RSS, machine CPU per record and each batch's control totals. Target (issue 8): 50,000
records/s end to end with flat memory. --processes N lets N worker processes take the chunks in
any order, as Celery workers do. --profile writes a cProfile of the run to usage_benchmark.prof.
--floor then times PostgreSQL alone COPYing the same rows from a file: the ceiling this machine
and database set, whatever the Python does.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("USAGE_TARIFF_RESOLVER", "tests.benchmarks.usage_benchmark.resolver")

import django

django.setup()

from django.conf import settings
from django.db import connection

from billing.balances.models import Bucket
from billing.balances.services import BucketOpening, buckets_open_bulk
from billing.rating.plan import (
    SECOND,
    Destination,
    DestinationRate,
    Rate,
    RateSlot,
    RatingPlanBinding,
    RatingProfile,
    TariffPlan,
)
from billing.services import ALLOWANCE_UNITS
from billing.usage.lines import Tariff
from billing.usage.services import usage_batch_ingest_file, usage_mapping_save
from common.actors import system_actor
from crm.models import Account, Customer, Subscriber
from orders.catalog.models import ChargingTier, PricePlan

TARGET = 50_000
MSISDN_BASE = 447_400_500_000
DATA_DIR = Path(os.environ.get("USAGE_BENCH_DIR", "/tmp/usage-bench"))


# --- the tariff: the rating engine when it is installed, else a prefix table -------------------

PLAN = TariffPlan(
    destinations=(
        Destination("GB_MOBILE", ("447",)),
        Destination("GB_FIXED", ("441", "442", "443")),
        Destination("FR", ("33",)),
        Destination("US", ("1",)),
        Destination("PREMIUM", ("449",)),
    ),
    rates=(
        Rate("R_MOBILE", (RateSlot(Decimal("0"), Decimal("0.10"), 60 * SECOND, SECOND),)),
        Rate("R_FIXED", (RateSlot(Decimal("0"), Decimal("0.05"), 60 * SECOND, SECOND),)),
        Rate("R_INTL", (RateSlot(Decimal("0.10"), Decimal("0.60"), 60 * SECOND, SECOND),)),
        Rate("R_PREMIUM", (RateSlot(Decimal("0.50"), Decimal("1.50"), 60 * SECOND, SECOND),)),
        Rate("R_SMS", (RateSlot(Decimal("0"), Decimal("0.08"), 1, 1),)),
    ),
    destination_rates=(
        DestinationRate("DR_VOICE", "GB_MOBILE", "R_MOBILE"),
        DestinationRate("DR_VOICE", "GB_FIXED", "R_FIXED"),
        DestinationRate("DR_VOICE", "FR", "R_INTL"),
        DestinationRate("DR_VOICE", "US", "R_INTL"),
        DestinationRate("DR_VOICE", "PREMIUM", "R_PREMIUM"),
        DestinationRate("DR_SMS", "*any", "R_SMS"),
    ),
    rating_plans=(
        RatingPlanBinding("RP_VOICE", "DR_VOICE", "*any"),
        RatingPlanBinding("RP_SMS", "DR_SMS", "*any"),
    ),
    rating_profiles=(
        RatingProfile("bench", "call", "bench", datetime(2020, 1, 1, tzinfo=UTC), "RP_VOICE"),
        RatingProfile("bench", "sms", "bench", datetime(2020, 1, 1, tzinfo=UTC), "RP_SMS"),
    ),
)


class PrefixEngine:
    """Longest-prefix price table for when billing.rating.engine is not installed yet."""

    def __init__(self) -> None:
        self.prices = {"447": "0.10", "441": "0.05", "442": "0.05", "443": "0.05", "33": "0.60"}
        self.prices |= {"1": "0.60", "449": "1.50"}
        self.decimal = {k: Decimal(v) for k, v in self.prices.items()}

    def rate_many(self, calls: list) -> list:
        out = []
        for call in calls:
            if call.tor == "*sms":
                out.append(_Priced(Decimal("0.08") * call.usage, {"rate": "R_SMS"}))
                continue
            for length in (3, 2, 1):
                price = self.decimal.get(call.destination[:length])
                if price is not None:
                    cost = (price * (call.usage // SECOND) / 60).quantize(Decimal("0.0001"))
                    out.append(_Priced(cost, {"prefix": call.destination[:length]}))
                    break
            else:
                out.append(_Refused("no_destination"))
        return out


class _Priced:
    __slots__ = ("cost", "trace")

    def __init__(self, cost: Decimal, trace: dict) -> None:
        self.cost, self.trace = cost, trace


class _Refused:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Call:
    __slots__ = ("answer_time", "category", "destination", "subject", "tenant", "tor", "usage")

    def __init__(self, **values: object) -> None:
        for name, value in values.items():
            setattr(self, name, value)


def _engine() -> tuple[object, object, str]:
    try:
        from billing.rating.engine import CallDescriptor, RatingEngine
    except ImportError:
        return PrefixEngine(), _Call, "prefix table (billing.rating.engine not installed)"
    return (
        RatingEngine(PLAN, time_zone=settings.TIME_ZONE),
        CallDescriptor,
        "billing.rating.engine",
    )


ENGINE, DESCRIBE, ENGINE_NAME = _engine()
_TARIFFS: dict[str, Tariff] = {}


def resolver(*, plan_id: int | None) -> Tariff | None:
    """Voice and SMS of every bench plan through one tariff (category picks the profile)."""
    return _TARIFFS.setdefault(
        "bench",
        Tariff(
            version_id=1,
            engine=ENGINE,
            currency="GBP",
            describe=DESCRIBE,
            tenant="bench",
            subject="bench",
            categories={"voice": "call", "sms": "sms"},
        ),
    )


# --- data ----------------------------------------------------------------------------------------


def lines_load(count: int) -> list[str]:
    """--lines subscribers (idempotent), a third with allowances, half on a tiered plan."""
    plan, _ = PricePlan.objects.get_or_create(
        code="bench", version=1,
        defaults={"name": "Bench", "payment_type": "postpaid", "currency": "GBP",
                  "recurring_fee_amount": Decimal("10"), "status": "published"},
    )  # fmt: skip
    tiered, created = PricePlan.objects.get_or_create(
        code="bench-tiered", version=1,
        defaults={"name": "Bench tiered", "payment_type": "postpaid", "currency": "GBP",
                  "recurring_fee_amount": Decimal("10"), "status": "published"},
    )  # fmt: skip
    if created:
        ChargingTier.objects.create(
            plan=tiered, service="sms", from_quantity=0, to_quantity=100,
            unit_price_amount=Decimal("0.06"),
        )  # fmt: skip
        ChargingTier.objects.create(
            plan=tiered, service="sms", from_quantity=100, unit_price_amount=Decimal("0.04")
        )
    numbers = [f"+{MSISDN_BASE + i}" for i in range(count)]
    have = Subscriber.objects.filter(msisdn__startswith="+4474005").count()
    if have >= count:
        return numbers
    balances_truncate()
    Subscriber.objects.filter(msisdn__startswith="+4474005").delete()
    Account.objects.filter(number__startswith="BENCH-").delete()
    Customer.objects.filter(number__startswith="BENCH-").delete()
    customers = Customer.objects.bulk_create(
        Customer(number=f"BENCH-{i:07d}", first_name="Bench", last_name=str(i))
        for i in range(count)
    )
    accounts = Account.objects.bulk_create(
        Account(
            number=f"BENCH-{i:07d}",
            customer=c,
            currency="GBP",
            payment_type="prepaid" if i % 5 == 0 else "postpaid",
            bill_cycle_day=1,
        )
        for i, c in enumerate(customers)
    )
    Subscriber.objects.bulk_create(
        Subscriber(
            account=a,
            msisdn=numbers[i],
            iccid=f"8944{i:015d}",
            imsi=f"23410{i:010d}",
            status="active",
            plan=tiered if i % 2 else plan,
        )
        for i, a in enumerate(accounts)
    )
    return numbers


def allowances_open() -> int:
    """A third of the lines get voice and SMS allowance buckets (opened afresh each run, with
    their opening entries: the ledger is append-only, so a run starts from new buckets)."""
    start = datetime.now(UTC) - timedelta(days=40)
    lines = Subscriber.objects.filter(msisdn__startswith="+4474005").order_by("pk")
    return buckets_open_bulk(
        (
            BucketOpening(
                subscriber_id=pk,
                account_id=account_pk,
                kind=Bucket.Kind.ALLOWANCE,
                unit=ALLOWANCE_UNITS[service][0],
                amount=Decimal(quantity) * ALLOWANCE_UNITS[service][1],
                name="Bench bundle",
                source_key=f"bench:{pk}:{service}",
                valid_from=start,
                valid_until=start + timedelta(days=60),
                service=service,
            )
            for i, (pk, account_pk) in enumerate(lines.values_list("pk", "account_id"))
            if i % 3 == 0
            for service, quantity in (("voice", "100"), ("sms", "50"))
        ),
        actor=system_actor(),
        reason="Bench bundle",
    )


def balances_truncate() -> None:
    """Empty the benchmark database's balances (TRUNCATE: its ledger refuses row deletes)."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE billing_ledgerentry, billing_balanceadjustment, billing_bucket")


def files_write(records: int, numbers: list[str]) -> tuple[Path, Path]:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    voice = DATA_DIR / f"Master-{records}.csv"
    sms = DATA_DIR / f"sms-{records}.csv"
    if voice.exists() and sms.exists():
        return voice, sms
    rng = random.Random(8)
    calls = records * 6 // 10
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=20)
    nationals = ["0" + n[3:] for n in numbers]
    destinations = ["07700900{:03d}", "02079460{:03d}", "+3314{:06d}", "00155501{:04d}"]
    with voice.open("w", encoding="utf-8") as out:
        for i in range(calls):
            moment = start + timedelta(seconds=i * 1.7)
            src = rng.choice(nationals) if rng.random() > 0.01 else "07999000111"
            pick = rng.random()
            if pick < 0.7:
                dst = destinations[0].format(rng.randrange(1000))
            elif pick < 0.85:
                dst = rng.choice(nationals)
            elif pick < 0.93:
                dst = destinations[1].format(rng.randrange(1000))
            elif pick < 0.98:
                dst = destinations[2].format(rng.randrange(1_000_000))
            else:
                dst = destinations[3].format(rng.randrange(10000))
            roll = rng.random()
            disposition = "ANSWERED" if roll < 0.85 else ("NO ANSWER" if roll < 0.95 else "BUSY")
            billsec = rng.randrange(1, 600) if disposition == "ANSWERED" else 0
            ring = rng.randrange(2, 20)
            begin = moment.strftime("%Y-%m-%d %H:%M:%S")
            answer = (
                (moment + timedelta(seconds=ring)).strftime("%Y-%m-%d %H:%M:%S") if billsec else ""
            )
            end = (moment + timedelta(seconds=ring + billsec)).strftime("%Y-%m-%d %H:%M:%S")
            if i % 997 == 0:
                out.write(f'"malformed","row {i}"\n')
                continue
            out.write(
                f'"","{src}","{dst}","from-internal","""Bench"" <{src}>","SIP/{src}-0001",'
                f'"SIP/trunk-0002","Dial","SIP/trunk/{dst},60","{begin}","{answer}","{end}",'
                f'{ring + billsec},{billsec},"{disposition}","DOCUMENTATION",'
                f'"{1_700_000_000 + i}.{i % 100}"\n'
            )
    with sms.open("w", encoding="utf-8") as out:
        out.write("id,type,from,to,sent,status,parts\n")
        for i in range(records - calls):
            moment = start + timedelta(seconds=i * 2.3)
            sender = rng.choice(numbers)
            to = "+447700900" + f"{rng.randrange(1000):03d}"
            status = "delivered" if rng.random() < 0.97 else "failed"
            parts = 1 if rng.random() < 0.9 else 2
            out.write(f"sms-{i},sms,{sender},{to},{moment:%Y-%m-%dT%H:%M:%SZ},{status},{parts}\n")
    return voice, sms


def _chunk_work(chunk_pk: int) -> int:
    from billing.usage.models import UsageBatchChunk
    from billing.usage.services import usage_chunk_process

    chunk = UsageBatchChunk.objects.select_related("batch", "batch__mapping").get(pk=chunk_pk)
    usage_chunk_process(chunk=chunk)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _with_workers(files: list[dict], actor: object, processes: int) -> list:
    """Plan each file, then let `processes` workers take its chunks in any order (what Celery
    workers do with usage_chunk_process_task)."""
    import multiprocessing

    from billing.usage.models import UsageBatch, UsageBatchChunk

    batches = [usage_batch_ingest_file(**f, actor=actor, plan_only=True) for f in files]
    chunks = list(
        UsageBatchChunk.objects.filter(batch__in=batches, done=False)
        .order_by("number", "batch_id")
        .values_list("pk", flat=True)
    )
    connection.close()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        worker_rss = max(pool.map(_chunk_work, chunks, chunksize=1), default=0)
    print(f"{processes} worker processes; peak RSS of a worker {worker_rss / 1024:.0f} MB")
    return [UsageBatch.objects.get(pk=b.pk) for b in batches]


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (this one, or the database backend serving it):
    on a machine shared with other work, records per CPU second is the figure that holds."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine so far, from /proc/stat: every worker
    and database backend counted, whichever process they were; stolen is time the
    hypervisor gave to other machines."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--processes", type=int, default=1, help="Worker processes taking chunks (as Celery would)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep earlier records (dedup run).")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="Then time PostgreSQL alone: the loaded rows written out and COPYed back in by the "
        "server, one stream (needs a superuser: the server reads and writes the file).",
    )
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    print(f"rating engine: {ENGINE_NAME}")
    numbers = lines_load(options.lines)
    voice, sms = files_write(options.records, numbers)
    mapping = usage_mapping_save(
        name="bench-sms",
        columns={"record_id": "id", "service": "type", "calling_number": "from",
                 "called_number": "to", "started_at": "sent", "delivery_status": "status",
                 "message_parts": "parts"},
        actor=system_actor(),
    )  # fmt: skip
    if not options.keep:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE billing_usagerecord")
            # tier counters follow the records (kept, a second run would start at cheaper tiers)
            cursor.execute("TRUNCATE billing_usagecounter")
            cursor.execute("DELETE FROM billing_usagebatchchunk")
            cursor.execute("DELETE FROM billing_usagebatch WHERE source_name LIKE 'bench-%%'")
        balances_truncate()
        allowances_open()
    rss_before = peak_rss_mb()
    actor = system_actor()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = int(cursor.fetchone()[0])
    cpu_before = cpu_seconds(), cpu_seconds(backend)
    load_before = os.getloadavg()[0]
    machine_before = machine_cpu()
    profiler = cProfile.Profile(time.process_time) if options.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    files = [
        {"path_or_file": voice, "format": "asterisk", "source": "bench-pbx"},
        {"path_or_file": sms, "format": "csv", "mapping": mapping, "source": "bench-smsc"},
    ]
    if options.processes > 1:
        batches = _with_workers(files, actor, options.processes)
    else:
        batches = [usage_batch_ingest_file(**f, actor=actor) for f in files]
    if profiler:
        profiler.disable()
        profiler.dump_stats("usage_benchmark.prof")
    elapsed = time.perf_counter() - started
    machine_busy = machine_cpu()[0] - machine_before[0]
    machine_stolen = machine_cpu()[1] - machine_before[1]
    python_cpu = cpu_seconds() - cpu_before[0]
    database_cpu = cpu_seconds(backend) - cpu_before[1] if options.processes == 1 else 0.0
    received = sum(b.received_count for b in batches)
    rate = received / elapsed
    size = (voice.stat().st_size + sms.stat().st_size) / 1e6
    print(f"{received:,} records ({size:.0f} MB of CSV) in {elapsed:.1f} s: {rate:,.0f} records/s")
    print(f"peak RSS {peak_rss_mb():.0f} MB (before loading: {rss_before:.0f} MB)")
    print(
        f"machine CPU busy {machine_busy:.1f} s over {elapsed:.1f} s on {os.cpu_count()} cores "
        f"({machine_busy / elapsed / (os.cpu_count() or 1):.0%}), {received / machine_busy:,.0f} "
        f"records per busy CPU second; stolen by the hypervisor {machine_stolen:.1f} s"
    )
    if options.processes == 1:
        busy = python_cpu + database_cpu
        print(
            f"CPU: Python {python_cpu:.1f} s + its PostgreSQL backend {database_cpu:.1f} s = "
            f"{busy:.1f} s, {received / busy:,.0f} records per CPU second (load average "
            f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
            f"{os.cpu_count()} cores)"
        )
    for batch in batches:
        print(
            f"  {batch.source_name}: received {batch.received_count:,} = rated "
            f"{batch.rated_count:,} (free {batch.zero_charge_count:,}) + rejected "
            f"{batch.rejected_count:,} {batch.reject_reasons} + duplicate "
            f"{batch.duplicate_count:,}; {batch.total_duration_seconds:,} s; "
            f"{batch.totals_by_currency}"
        )
        assert batch.received_count == (
            batch.rated_count + batch.rejected_count + batch.duplicate_count
        )
    verdict = "meets" if rate >= TARGET else "MISSES"
    print(f"{verdict} the target of {TARGET:,} records/s")
    if options.floor:
        database_floor(received)


def database_floor(received: int) -> None:
    """PostgreSQL's own share: the same rows COPYed from a file by the server, with no Python
    in the way (the records table's indexes, partitions and column types as they are). What
    one COPY stream does here bounds what the whole pipeline can."""
    from billing.usage.imports import COLUMNS

    columns = ", ".join(COLUMNS)
    path = "/tmp/usage-bench-floor.tsv"
    with connection.cursor() as cursor:
        cursor.execute(f"COPY (SELECT {columns} FROM billing_usagerecord) TO '{path}'")
        cursor.execute("TRUNCATE billing_usagerecord")
        started = time.perf_counter()
        cursor.execute(f"COPY billing_usagerecord ({columns}) FROM '{path}'")
        elapsed = time.perf_counter() - started
        cursor.execute(f"COPY (SELECT 1) TO '{path}'")  # the file, emptied
    print(
        f"PostgreSQL alone, one COPY stream of the same {received:,} rows: {elapsed:.1f} s, "
        f"{received / elapsed:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
