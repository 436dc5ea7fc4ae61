"""manage.py balances_check

Checks the ledger's invariant for every bucket: its balance equals the sum of its entries.
Prints each bucket that disagrees and exits 1 if any does, so a scheduler can alert on it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.balances.models import Bucket
from billing.balances.services import ledger_mismatches


class Command(BaseCommand):
    help = "Check that every bucket's balance equals the sum of its ledger entries."

    def handle(self, *args: Any, **options: Any) -> None:
        mismatches = ledger_mismatches()
        for found in mismatches:
            self.stdout.write(
                f"bucket {found.public_id}: balance {found.balance}, "
                f"entries add up to {found.entries_sum}"
            )
        checked = Bucket.objects.count()
        if mismatches:
            raise CommandError(
                f"{len(mismatches)} of {checked} buckets disagree with their ledger."
            )
        self.stdout.write(f"{checked} buckets checked: every balance equals its ledger.")
