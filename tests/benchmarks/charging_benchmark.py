"""Online charging over HTTP on loopback: gunicorn, PostgreSQL and wrk (Debian's `wrk`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/telecrm_charging \\
        .venv/bin/python tests/benchmarks/charging_benchmark.py [--seconds 20] [--workers 4] \\
        [--connections 16]

Sets up a prepaid line with a large main balance and an API key holding billing.charge_online,
starts gunicorn (sync workers) on 127.0.0.1, then drives with wrk, one run each:

- baseline: a minimal endpoint of the same stack (API key, middleware, DRF) that reads one row
  by its key: GET /api/v1/usage/batches/{id}/;
- event charges: POST /api/v1/charging/events/, one SMS each, every request its own id;
- session initiate, update and terminate: POST /api/v1/charging/sessions/... (initiates open a
  pool of sessions; updates and terminates walk through it).

Prints requests/s and p50/p95/p99 latency of each, the ratios to the baseline, and checks that
nothing was overspent (no bucket below its floor, every balance equal to its ledger, money
taken equal to the events and sessions granted). Target (issue 9): event charges at least half
the baseline's requests/s, with p99 at most twice its p99.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)

import django

django.setup()

from django.db import connection

MSISDN_FORMAT = "+44740088%05d"  # the benchmark's prepaid lines: +447400880001 ...

# wrk scripts: each request its own id (thread number + counter); the summary as one JSON line
COMMON_LUA = """
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  thread_id = id
end
function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %f, "errors": %d, "p50": %f, "p95": %f, "p99": %f}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""

EVENT_LUA = (
    COMMON_LUA
    + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  counter = counter + 1
  local body = string.format(
    '{"request_id": "ev-%s-%d-%d", "msisdn": "' .. MSISDN_FORMAT .. '", "service": "sms", '
    .. '"destination": "+447700900123"}', RUN, thread_id, counter, counter % LINES + 1)
  return wrk.format(nil, nil, nil, body)
end
"""
)

SESSION_LUA = (
    COMMON_LUA
    + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local step = STEP
function request()
  counter = counter + 1
  local session = string.format("s-%s-%d-%d", RUN, thread_id, counter)
  if step == "initiate" then
    local body = string.format(
      '{"request_id": "%s-i", "session_id": "%s", "msisdn": "' .. MSISDN_FORMAT .. '", '
      .. '"service": "voice", "destination": "+447700900123", "requested": 60}',
      session, session, counter % LINES + 1)
    return wrk.format(nil, "/api/v1/charging/sessions/", nil, body)
  end
  local body = string.format('{"request_id": "%s-%s", "used": 30}', session, step)
  return wrk.format(nil, "/api/v1/charging/sessions/" .. session .. "/" .. step .. "/", nil, body)
end
"""
)


def _lua(script: str, run: str, lines: int) -> str:
    return (
        script.replace("RUN", f'"{run}"')
        .replace("MSISDN_FORMAT", f'"{MSISDN_FORMAT}"')
        .replace("LINES", str(lines))
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def setup_data(lines: int) -> tuple[str, str]:
    """`lines` prepaid lines with 1,000,000 GBP each, an API key (its secret) and a batch id to
    read for the baseline."""
    from billing.balances.models import Bucket
    from billing.balances.services import bucket_open
    from billing.rating.demo import tariffs_demo_ensure
    from billing.usage.services import usage_batch_ingest_records
    from common.actors import system_actor
    from common.api_keys import api_key_issue
    from crm.models import Account, Customer, Subscriber
    from orders.catalog.demo import catalog_demo_ensure
    from orders.catalog.models import PricePlan

    actor = system_actor()
    catalog_demo_ensure(actor, tariffs=tariffs_demo_ensure(actor))  # plans priced by tariffs
    plan = PricePlan.objects.filter(currency="GBP", tariff__isnull=False).first()
    for index in range(1, lines + 1):
        msisdn = MSISDN_FORMAT % index
        line = Subscriber.objects.filter(msisdn=msisdn).first()
        if line is None:
            customer = Customer.objects.create(
                number=f"BENCH-OCS-{index}", first_name="Bench", last_name="OCS"
            )
            account = Account.objects.create(
                number=f"BENCH-OCS-{index}", customer=customer, currency="GBP",
                payment_type="prepaid", bill_cycle_day=1,
            )  # fmt: skip
            line = Subscriber.objects.create(
                account=account, msisdn=msisdn, iccid=f"89440000000{index:08d}",
                imsi=f"2341000{index:08d}", status="active", plan=plan,
            )  # fmt: skip
        if not Bucket.objects.filter(subscriber=line, kind="main").exists():
            bucket_open(
                account=line.account, subscriber=line, kind="main", unit="money",
                currency="GBP", amount=Decimal("1000000"), name="Main balance",
                source_key=f"main:bench:{line.pk}", actor=actor, reason="Benchmark top-up",
            )  # fmt: skip
    key, secret = api_key_issue(
        actor=actor,
        name=f"Charging bench {time.time():.0f}",
        permissions=["billing.charge_online", "billing.push_usage", "billing.view_usage"],
    )
    batch = usage_batch_ingest_records(
        records=[{"record_id": f"bench-{time.time()}", "service": "sms",
                  "calling_number": MSISDN_FORMAT % 1, "called_number": "+447700900123",
                  "started_at": "2026-01-05T10:00:00Z"}],
        source="charging-bench",
        actor=key.user,
    )  # fmt: skip
    return secret, str(batch.public_id)


def wrk(
    url: str, secret: str, *, seconds: int, connections: int, script: str | None = None
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or COMMON_LUA)
    command = [
        "wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s",
        "--timeout", "10s", "-H", f"Authorization: Api-Key {secret}", "-s", lua.name, url,
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    os.unlink(lua.name)
    found = re.search(r"RESULT (\{.*\})", run.stdout)
    if not found:
        sys.exit(f"wrk printed no result:\n{run.stdout}\n{run.stderr}")
    result = json.loads(found.group(1))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--lines",
        type=int,
        default=200,
        help="Prepaid lines the requests are spread over "
        "(1: every request hits one balance, the worst case for its row lock).",
    )
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (migrated).")
    if shutil.which("wrk") is None:
        sys.exit("Install wrk (Debian: apt-get install wrk).")
    secret, batch_id = setup_data(options.lines)
    from billing.balances.services import ledger_mismatches

    connection.close()
    port = free_port()
    environment = {
        **os.environ,
        "API_RATE_USER": "100000000/minute",  # the baseline's throttle must not refuse it
        "MFA_REQUIRED_ROLES": "",
    }
    environment.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        run = f"{time.time():.0f}"
        common = {"seconds": options.seconds, "connections": options.connections}
        wrk(f"{base}/api/v1/usage/batches/{batch_id}/", secret, seconds=2, connections=2)
        results = {
            "baseline (read one row by key)": wrk(
                f"{base}/api/v1/usage/batches/{batch_id}/", secret, **common
            ),
            "event charge (SMS)": wrk(
                f"{base}/api/v1/charging/events/",
                secret,
                **common,
                script=_lua(EVENT_LUA, run, options.lines),
            ),
        }
        for step in ("initiate", "update", "terminate"):
            script = _lua(SESSION_LUA, run, options.lines).replace(
                "local step = STEP", f'local step = "{step}"'
            )
            results[f"session {step}"] = wrk(f"{base}/", secret, **common, script=script)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    baseline = results["baseline (read one row by key)"]
    print(
        f"gunicorn {options.workers} sync workers, wrk {options.connections} connections, "
        f"{options.seconds} s a run, {options.lines} prepaid lines, {os.cpu_count()} cores"
    )
    for name, result in results.items():
        print(
            f"{name:32} {result['rps']:8,.0f} req/s  p50 {result['p50']:6.1f} ms  "
            f"p95 {result['p95']:6.1f} ms  p99 {result['p99']:6.1f} ms  "
            f"({result['rps'] / baseline['rps']:.2f}x the baseline's req/s, "
            f"p99 {result['p99'] / baseline['p99']:.2f}x; {result['errors']:.0f} errors)"
        )
    event = results["event charge (SMS)"]
    meets = event["rps"] >= baseline["rps"] / 2 and event["p99"] <= 2 * baseline["p99"]
    print(("meets" if meets else "MISSES") + " the target: events at half the baseline's "
          "req/s or more, p99 at most twice its p99")  # fmt: skip
    answers_count(run)
    overspend_check()
    mismatches = ledger_mismatches()
    print(f"ledger: {len(mismatches)} buckets disagree with their entries")


def answers_count(run: str) -> None:
    """What the charging system answered in this run, by step: a run that outlasts the sessions
    opened walks into ids it does not know (unknown_session), which the figures then include."""
    from django.db.models import Count

    from billing.charging.models import ChargingRequest

    rows = (
        ChargingRequest.objects.filter(request_id__regex=rf"^(ev|s)-{run}-")
        .values("step", "result", "reason")
        .annotate(n=Count("id"))
        .order_by("step", "result", "reason")
    )
    for row in rows:
        reason = f" ({row['reason']})" if row["reason"] else ""
        print(f"  {row['step']:9} {row['result']}{reason}: {row['n']:,}")


def overspend_check() -> None:
    from django.db.models import F, Sum

    from billing.balances.models import Bucket, LedgerEntry
    from billing.charging.models import ChargingRequest

    below = Bucket.objects.filter(balance__lt=F("reserved") + F("lowest_balance")).count()
    line_buckets = Bucket.objects.filter(subscriber__msisdn__startswith="+44740088", unit="money")
    taken = -(
        LedgerEntry.objects.filter(bucket__in=line_buckets, kind="usage").aggregate(
            total=Sum("amount")
        )["total"]
        or Decimal(0)
    )
    granted_events = ChargingRequest.objects.filter(
        subscriber__msisdn__startswith="+44740088", step="event", result="granted"
    ).aggregate(total=Sum("amount_charged"))["total"] or Decimal(0)
    print(f"buckets below their floor: {below}; money taken {taken} GBP "
          f"(events granted {granted_events} GBP, the rest sessions)")  # fmt: skip


if __name__ == "__main__":
    main()
