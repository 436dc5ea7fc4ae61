"""Console search latency on a million subscribers (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/telecrm_bench \
        .venv/bin/python tests/benchmarks/search_benchmark.py [--subscribers 1000000] [--runs 200]

Loads the demo operator up to --subscribers lines (idempotent: a second run reuses them), then
times each kind of console query the way the console runs it: the scoped search selector
(SQL + building the hits) and the whole htmx request through Django's test client (view,
template, middleware). Prints p50/p95/max in milliseconds per kind. Targets (issue 2): p95 under
50 ms for an exact MSISDN, account number or ICCID; under 150 ms for a name prefix.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)

import django

django.setup()

from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.demo import DEMO_DOMAIN
from crm.management.demo import demo_load
from crm.models import Account, Subscriber, User
from crm.selectors import customer_search

TARGETS_MS = {"msisdn": 50, "account": 50, "iccid": 50, "email": 50, "name": 150, "full name": 150}


def spaced(e164: str) -> str:
    """+447412345678 typed as a person would: 07412 345678."""
    national = "0" + e164[3:]
    return f"{national[:5]} {national[5:]}"


def sample_queries(rng: random.Random, runs: int) -> dict[str, list[str]]:
    ids = list(Subscriber.objects.order_by("?").values_list("pk", flat=True)[:runs])
    subscribers = list(Subscriber.objects.filter(pk__in=ids).select_related("account__customer"))
    accounts = list(
        Account.objects.filter(subscribers__in=subscribers).values_list("number", flat=True)
    )
    last_names = list(
        Subscriber.objects.filter(pk__in=ids, account__customer__kind="individual").values_list(
            "account__customer__first_name", "account__customer__last_name"
        )
    )
    return {
        "msisdn": [spaced(s.msisdn) for s in subscribers],
        "account": accounts,
        "iccid": [s.iccid for s in subscribers],
        "email": [s.account.customer.email for s in subscribers if s.account.customer.email],
        "name": [last[: rng.randint(3, 5)].lower() for _, last in last_names],
        "full name": [f"{first} {last[:3]}" for first, last in last_names],
    }


def timed(fn: Callable[[str], object], values: list[str]) -> list[float]:
    fn(values[0])  # warm caches and connection
    samples = []
    for value in values:
        started = time.perf_counter()
        fn(value)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL: set DATABASE_URL.")

    started = time.monotonic()
    result = demo_load(customers=args.subscribers)
    print(
        f"load: added {result['added']:,} customers/lines in {time.monotonic() - started:.1f} s; "
        f"{Subscriber.objects.count():,} subscribers in the database"
    )

    csr = User.objects.get(email=f"csr@{DEMO_DOMAIN}")
    client = Client()
    client.force_login(csr)
    url = reverse("crm:customer-search")
    queries = sample_queries(random.Random(7), args.runs)

    def via_selector(q: str) -> object:
        return customer_search(csr, q)

    def via_http(q: str) -> object:
        response = client.get(url, {"q": q}, headers={"HX-Request": "true"})
        assert response.status_code == 200, response.status_code
        return response

    print(
        f"\n{'query':<10} {'layer':<9} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'target p95':>11}  hits(p50)"
    )
    failures = 0
    for kind, values in queries.items():
        hits = [len(customer_search(csr, v)[1]) for v in values[:20]]
        for layer, fn in (("selector", via_selector), ("htmx GET", via_http)):
            samples = timed(fn, values)
            p95 = percentile(samples, 95)
            ok = p95 < TARGETS_MS[kind]
            failures += not ok
            print(
                f"{kind:<10} {layer:<9} {len(samples):>4} {percentile(samples, 50):>8.2f} "
                f"{p95:>8.2f} {max(samples):>8.2f} {TARGETS_MS[kind]:>8} ms "
                f"{'ok' if ok else 'MISS'}"
                f"  {statistics.median(hits):.0f}"
            )
    print("\nall targets met" if not failures else f"\n{failures} figure(s) over target")


if __name__ == "__main__":
    main()
