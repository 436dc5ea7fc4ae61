"""manage.py usage_reconcile --from YYYY-MM-DD --to YYYY-MM-DD [--source NAME] [--csv]

Prints the usage reconciliation report (the back office's figures): per source, what was
received, rated, rejected, duplicate and billed, the amounts, and every discrepancy. Exits 1
when there is a discrepancy, so a scheduler can alert on it."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.usage.itemised import MAX_PERIOD_DAYS, this_month
from billing.usage.reconciliation import (
    STUCK_AFTER_MINUTES,
    Figures,
    reconciliation_csv_rows,
    usage_reconcile,
)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


def _amounts(values: dict[str, Any]) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(values.items())) or "-"


class Command(BaseCommand):
    help = "Print the usage reconciliation report for a period and source."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="period_from", default="", help="First day.")
        parser.add_argument("--to", dest="period_to", default="", help="Last day (inclusive).")
        parser.add_argument("--source", default="", help="One sending system (default: all).")
        parser.add_argument("--stuck-after", type=int, default=STUCK_AFTER_MINUTES)
        parser.add_argument("--csv", action="store_true", help="Print CSV instead of text.")
        parser.add_argument(
            "--fail-on-discrepancy", action="store_true", help="Exit 1 if any is found."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = this_month()
        period_from = _day(options["period_from"]) if options["period_from"] else start
        period_to = _day(options["period_to"]) if options["period_to"] else end
        if period_to < period_from:
            raise CommandError("--to is before --from.")
        if (period_to - period_from).days >= MAX_PERIOD_DAYS:
            raise CommandError(f"A period is at most {MAX_PERIOD_DAYS} days.")
        report = usage_reconcile(
            period_from=period_from,
            period_to=period_to,
            source=options["source"],
            stuck_after_minutes=options["stuck_after"],
        )
        if options["csv"]:
            writer = csv.writer(self.stdout)
            writer.writerows(reconciliation_csv_rows(report))
        else:
            self.stdout.write(
                f"Usage reconciliation {period_from} to {period_to}, "
                f"source: {options['source'] or 'all'}"
            )
            for figures in [*report.sources, report.total]:
                self._figures(figures)
            if not report.invoicing_exists:
                self.stdout.write("Invoiced: no invoices yet (billed records' amounts shown).")
            self.stdout.write(f"Discrepancies: {len(report.discrepancies)}")
            for item in report.discrepancies:
                self.stdout.write(
                    f"  - {item.label}: {item.subject}: expected {item.expected}, "
                    f"found {item.found}. {item.detail}".rstrip()
                )
        if options["fail_on_discrepancy"] and report.discrepancies:
            raise CommandError(f"{len(report.discrepancies)} discrepancies.", returncode=1)

    def _figures(self, f: Figures) -> None:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(f.record_reject_reasons.items()))
        self.stdout.write(
            f"{f.source}: {f.batches} batches; received {f.received} "
            f"({f.received_minutes} min), duplicate {f.duplicate}, rated {f.rated}, "
            f"rejected {f.rejected}\n"
            f"  records: {f.records} kept, {f.records_rated} rated, {f.records_rerated} "
            f"re-rated, {f.records_billed} billed, {f.records_rejected} rejected"
            f"{' (' + reasons + ')' if reasons else ''}, {f.records_in_flight} before rating; "
            f"{f.rated_minutes} min rated\n"
            f"  amounts: rated {_amounts(f.rated_amounts)}; billed {_amounts(f.billed_amounts)}; "
            f"postpaid awaiting the bill {_amounts(f.postpaid_awaiting_bill)}; "
            f"prepaid awaiting debit {_amounts(f.prepaid_awaiting_debit)}"
        )
