"""`manage.py rate_call`: rate one call against a CGRateS tariff-plan folder (or a stored tariff,
`--tariff CODE`) and print the cost.

An operator migrating from CGRateS runs the same call through both systems and compares:

    manage.py rate_call --tariff-dir DIR --subject 1001 --destination 1003 \\
        --answer-time 2019-03-11T09:00:00Z --usage 45s [--cgrates-rounding 5]
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.rating.cgrates import parse_duration, read_tariff_plan_dir
from billing.rating.engine import (
    DATA,
    MMS,
    SMS,
    TORS,
    VOICE,
    CallDescriptor,
    RatingEngine,
    RatingError,
)
from billing.rating.models import Tariff
from billing.rating.plan import PlanError
from billing.rating.services import rating_quote
from common.errors import ApplicationError

TOR_OF_CATEGORY = {"sms": SMS, "mms": MMS, "data": DATA}


class Command(BaseCommand):
    help = (
        "Rate one usage against a CGRateS tariff-plan folder; prints one JSON object with the "
        "cost and the rating trace. Unknown subjects or destinations are errors (exit code 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--tariff-dir", help="CGRateS tariff-plan folder.")
        source.add_argument(
            "--tariff",
            metavar="CODE",
            help="A stored tariff (e.g. postpaid-standard): rated by its version in force at "
            "the answer time, as usage is.",
        )
        parser.add_argument(
            "--tenant", default=None, help="Tenant (default: the plan's only tenant)."
        )
        parser.add_argument("--category", default="call", help="Category (default: call).")
        parser.add_argument("--subject", required=True, help="Rating subject, e.g. 1001.")
        parser.add_argument("--destination", required=True, help="Number called, e.g. 1003.")
        parser.add_argument(
            "--answer-time",
            required=True,
            help="When the call was answered, ISO 8601, e.g. 2019-03-11T09:00:00Z "
            "(without an offset: in --time-zone).",
        )
        parser.add_argument(
            "--usage",
            required=True,
            help="Duration (45s, 1m25s, 100ms) or a plain number of base units "
            "(nanoseconds for voice, messages for SMS/MMS, bytes for data), as CGRateS reads it.",
        )
        parser.add_argument(
            "--tor",
            choices=TORS,
            default=None,
            help="Type of record (default: *sms, *mms, *data for those categories, else *voice).",
        )
        parser.add_argument(
            "--time-zone",
            default=None,
            help="Zone of the tariff's time bands (default: the operator's, settings.TIME_ZONE).",
        )
        parser.add_argument(
            "--cgrates-rounding",
            type=int,
            default=None,
            metavar="N",
            help="Reproduce CGRateS's rounding of each increment's cost at N decimals "
            "(its rounding_decimals, 5 by default) instead of exact arithmetic.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        time_zone = options["time_zone"] or settings.TIME_ZONE
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"--time-zone: unknown time zone {time_zone!r}") from None
        answer_time = _answer_time(options["answer_time"], zone)
        try:
            usage = parse_duration(options["usage"])
        except ValueError as error:
            raise CommandError(f"--usage: {error}") from None
        decimals = options["cgrates_rounding"]
        if decimals is not None and not 0 <= decimals <= 10:
            raise CommandError("--cgrates-rounding: must be between 0 and 10")
        if options["tariff"]:
            self._rate_stored(options, answer_time, usage, decimals)
            return
        try:
            plan = read_tariff_plan_dir(options["tariff_dir"])
        except PlanError as error:
            raise CommandError(f"invalid tariff plan ({error.reason}): {error}") from None
        tenant = options["tenant"]
        if tenant is None:
            tenants = sorted({profile.tenant for profile in plan.rating_profiles})
            if len(tenants) != 1:
                raise CommandError(
                    f"--tenant is required: the plan has tenants {', '.join(tenants) or 'none'}"
                )
            tenant = tenants[0]
        category = options["category"]
        tor = options["tor"] or TOR_OF_CATEGORY.get(category, VOICE)
        engine = RatingEngine(plan, time_zone=time_zone, cgrates_decimals=decimals)
        call = CallDescriptor(
            tenant=tenant,
            category=category,
            subject=options["subject"],
            destination=options["destination"],
            answer_time=answer_time,
            usage=usage,
            tor=tor,
        )
        try:
            result = engine.rate(call)
        except RatingError as error:
            raise CommandError(f"cannot rate ({error.reason}): {error.message}") from None
        output = result.to_dict()
        output["arithmetic"] = (
            f"CGRateS rounding at {decimals} decimals" if decimals is not None else "exact"
        )
        output["time_zone"] = time_zone
        self.stdout.write(json.dumps(output, indent=2))

    def _rate_stored(
        self, options: dict[str, Any], answer_time: datetime, usage: int, decimals: int | None
    ) -> None:
        """Rate with a stored tariff's version in force at the answer time (the back office's
        and the API's "what would this cost")."""
        if options["time_zone"] or options["tenant"] or options["tor"]:
            raise CommandError(
                "--time-zone, --tenant and --tor apply to --tariff-dir only: a stored tariff "
                "is rated in the operator's time zone, tenant and the category's type of record"
            )
        tariff = Tariff.objects.filter(code=options["tariff"]).first()
        if tariff is None:
            raise CommandError(f"--tariff: no tariff has the code {options['tariff']!r}")
        try:
            quote = rating_quote(
                tariff=tariff,
                category=options["category"],
                destination=options["destination"],
                answer_time=answer_time,
                usage=usage,
                subject=options["subject"],
                cgrates_decimals=decimals,
            )
        except ApplicationError as error:
            details = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.fields.items()
            )
            raise CommandError(
                f"cannot rate ({error.code}): {error.message}{' ' + details if details else ''}"
            ) from None
        output = dict(quote.result)
        output["currency"] = quote.cost.currency
        output["tariff"] = tariff.code
        output["tariff_version"] = quote.version.number
        output["arithmetic"] = (
            f"CGRateS rounding at {decimals} decimals" if decimals is not None else "exact"
        )
        output["time_zone"] = settings.TIME_ZONE
        self.stdout.write(json.dumps(output, indent=2))


def _answer_time(text: str, zone: ZoneInfo) -> datetime:
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--answer-time: {text!r} is not a time like 2019-03-11T09:00:00Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
