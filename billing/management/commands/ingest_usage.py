"""manage.py ingest_usage PATH --format asterisk|freeswitch|csv [--mapping NAME] [--source NAME]

Loads a usage file and prints its control totals: received, rated, rejected by reason,
duplicate, total duration and amount."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.usage.models import UsageBatch, UsageMapping
from billing.usage.services import FORMATS, usage_batch_ingest_file
from common.actors import system_actor
from common.errors import ApplicationError


class Command(BaseCommand):
    help = "Load a usage file (CDRs) and print its control totals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--mapping", default="", help="Saved column mapping (csv format).")
        parser.add_argument(
            "--source", default="", help="The sending system (default: the format's name)."
        )
        parser.add_argument(
            "--workers", action="store_true", help="Queue each chunk as a Celery task."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mapping = None
        if options["mapping"]:
            mapping = UsageMapping.objects.filter(name=options["mapping"]).first()
            if mapping is None:
                raise CommandError(f"No saved column mapping is named {options['mapping']!r}.")
        try:
            batch = usage_batch_ingest_file(
                path_or_file=options["path"],
                format=options["format"],
                mapping=mapping,
                source=options["source"] or options["format"],
                actor=system_actor(),
                fan_out=options["workers"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(batch_totals_text(batch))


def batch_totals_text(batch: UsageBatch) -> str:
    lines = [
        f"Batch {batch.public_id} ({batch.file_name}, {batch.format}, source {batch.source_name})"
        f": {batch.status}",
    ]
    if batch.status == UsageBatch.Status.PROCESSING:
        lines.append(
            f"  {batch.chunk_count - batch.chunks_done} chunks queued for workers; the totals"
            " below grow as they finish"
        )
    if batch.duplicate_of_id:
        lines.append(f"  same content as batch {batch.duplicate_of.public_id}")  # type: ignore[union-attr]
    lines += [
        f"  received   {batch.received_count}",
        f"  rated      {batch.rated_count} (at no charge: {batch.zero_charge_count})",
        f"  rejected   {batch.rejected_count}",
    ]
    for reason, count in sorted(batch.reject_reasons.items()):
        lines.append(f"    {reason:<18} {count}")
    lines += [
        f"  duplicate  {batch.duplicate_count}",
        f"  duration   {batch.total_duration_seconds} s",
    ]
    if batch.totals_by_currency:
        for currency, amount in sorted(batch.totals_by_currency.items()):
            lines.append(f"  amount     {amount} {currency}")
    else:
        lines.append("  amount     0")
    if batch.error:
        lines.append(f"  error      {batch.error}")
    return "\n".join(lines)
