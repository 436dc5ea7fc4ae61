from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crm.demo import DEMO_PASSWORD, DEMO_USERS
from crm.management.demo import demo_load


class Command(BaseCommand):
    help = "Create the demo operator: users of every role and customers with lines (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=1000,
            help="Demo customers to have in all, each with an account and a line (default 1000).",
        )
        parser.add_argument(
            "--subscribers",
            type=int,
            default=None,
            help="Benchmark size: this many lines (one per customer), e.g. 1000000.",
        )

    def handle(self, *args: Any, customers: int, subscribers: int | None, **options: Any) -> None:
        target = subscribers if subscribers is not None else customers
        started = time.monotonic()
        result = demo_load(customers=target)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Demo data: added {result['added']} customers, {result['total']} in all "
            f"({elapsed:.1f} s)."
        )
        self.stdout.write(f"Demo sign-ins (password {DEMO_PASSWORD!r}):")
        for user in DEMO_USERS:
            self.stdout.write(f"  {user.email:<28} {user.role.value if user.role else 'superuser'}")
