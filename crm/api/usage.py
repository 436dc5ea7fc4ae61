"""A line's itemised usage: its records with filters and a cursor, their totals, and CSV.

Scoped exactly as the console: staff with billing.view_usage read any line; a reseller the
lines of its own customers; a subscriber their own lines. Any other line answers 404. Every
read is bound by the line and a period of at most 366 days (this month when none is given).
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.usage.itemised import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    UsageFilter,
    month_of,
    this_month,
    usage_csv_name,
    usage_csv_rows,
    usage_line_get_for,
    usage_page,
    usage_totals,
)
from billing.usage.models import UsageRecord
from common.api import errors
from crm.views.usage import usage_csv_response

TAGS = ["usage"]


class UsageFilterSerializer(serializers.Serializer):
    period_from = serializers.DateField(
        required=False,
        help_text="First day (operator's time zone). Default: the first day of `period_to`'s "
        "month, or of this month. A period is at most 366 days (longer answers 422).",
    )
    period_to = serializers.DateField(
        required=False,
        help_text="Last day, inclusive. Default: the last day of `period_from`'s month, or of "
        "this month.",
    )
    service = serializers.ChoiceField(choices=UsageRecord.Service.choices, required=False)
    direction = serializers.ChoiceField(choices=UsageRecord.Direction.choices, required=False)
    status = serializers.ChoiceField(choices=UsageRecord.Status.choices, required=False)
    destination_class = serializers.ChoiceField(
        choices=UsageRecord.DestinationClass.choices, required=False
    )
    number = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Part of the calling or called number.",
    )

    # Query parameters that may be sent empty (an empty text matches everything).
    BLANK_ALLOWED: ClassVar[frozenset[str]] = frozenset({"number", "cursor"})

    class Meta:
        ref_name = "UsageFilter"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A form-encoded empty value would otherwise count as "not given".
        blank: dict[str, list[str]] = {
            str(name): ["May not be empty."]
            for name in self.fields
            if name not in self.BLANK_ALLOWED and self.initial_data.get(name) == ""
        }
        if blank:
            raise serializers.ValidationError(blank)
        if "period_from" in attrs and "period_to" not in attrs:
            attrs["period_to"] = month_of(attrs["period_from"])[1]
        elif "period_to" in attrs and "period_from" not in attrs:
            attrs["period_from"] = month_of(attrs["period_to"])[0]
        elif "period_from" not in attrs:
            attrs["period_from"], attrs["period_to"] = this_month()
        return attrs


class UsagePageSerializer(UsageFilterSerializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The `next` cursor of the previous page.",
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE
    )

    class Meta:
        ref_name = "UsagePageQuery"


def _filters(request: Request, serializer_class: type[UsageFilterSerializer]) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _usage_filter(data: dict[str, Any]) -> UsageFilter:
    return UsageFilter(**{k: v for k, v in data.items() if k in UsageFilter.__dataclass_fields__})


class UsageRecordSerializer(serializers.Serializer):
    record_id = serializers.UUIDField(source="dedup_key", help_text="The record's identity.")
    started_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    service = serializers.CharField()
    direction = serializers.CharField()
    calling_number = serializers.CharField()
    called_number = serializers.CharField()
    destination_class = serializers.CharField()
    roaming = serializers.BooleanField()
    roaming_zone = serializers.CharField()
    duration_seconds = serializers.IntegerField()
    billable_seconds = serializers.IntegerField()
    message_parts = serializers.IntegerField()
    bytes_up = serializers.IntegerField()
    bytes_down = serializers.IntegerField()
    apn = serializers.CharField()
    status = serializers.CharField()
    reject_reason = serializers.CharField()
    allowance_units = serializers.DecimalField(max_digits=14, decimal_places=2)
    rated_units = serializers.DecimalField(max_digits=16, decimal_places=2)
    charge_amount = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    currency = serializers.CharField()

    class Meta:
        ref_name = "UsageRecord"


class UsagePageOutputSerializer(serializers.Serializer):
    next = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next (older) page; null at the end."
    )
    results = UsageRecordSerializer(many=True)

    class Meta:
        ref_name = "UsagePage"


class UsageTotalsSerializer(serializers.Serializer):
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    count = serializers.IntegerField()
    minutes = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Billable voice minutes."
    )
    messages = serializers.IntegerField(help_text="SMS and MMS messages (parts).")
    megabytes = serializers.DecimalField(max_digits=16, decimal_places=2)
    charges = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text='Per currency: [{"amount": "1.2340", "currency": "GBP"}].',
    )

    class Meta:
        ref_name = "UsageTotals"


class SubscriberUsageListApi(APIView):
    """The line's usage records in the period, newest first, a page at a time (a cursor on
    the start time: one query per page however deep). Someone else's line answers 404."""

    @extend_schema(
        operation_id="subscriber_usage_list",
        summary="A line's itemised usage",
        tags=TAGS,
        parameters=[UsagePageSerializer],
        responses={200: UsagePageOutputSerializer, **errors(400, 401, 404, 422)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        subscriber = usage_line_get_for(request.user, public_id)
        data = _filters(request, UsagePageSerializer)
        page = usage_page(
            subscriber=subscriber,
            filters=_usage_filter(data),
            cursor=data.get("cursor", ""),
            size=data["page_size"],
        )
        return Response(
            UsagePageOutputSerializer(
                {"next": page.next_cursor or None, "results": page.records}
            ).data
        )


class SubscriberUsageTotalsApi(APIView):
    """Totals of the line's usage for the same filters: records, minutes, messages, MB and
    the charge per currency."""

    @extend_schema(
        operation_id="subscriber_usage_totals",
        summary="Totals of a line's usage",
        tags=TAGS,
        parameters=[UsageFilterSerializer],
        responses={200: UsageTotalsSerializer, **errors(400, 401, 404, 422)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        subscriber = usage_line_get_for(request.user, public_id)
        filters = _usage_filter(_filters(request, UsageFilterSerializer))
        totals = usage_totals(subscriber=subscriber, filters=filters)
        return Response(
            UsageTotalsSerializer(
                {
                    "period_from": filters.period_from,
                    "period_to": filters.period_to,
                    "count": totals.count,
                    "minutes": totals.minutes,
                    "messages": totals.messages,
                    "megabytes": totals.megabytes,
                    "charges": [
                        {"amount": str(amount), "currency": currency}
                        for currency, amount in sorted(totals.charges.items())
                    ],
                }
            ).data
        )


class SubscriberUsageCsvApi(APIView):
    """Every record matching the filters as CSV (streamed), with a header row."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The CSV is streamed whatever the Accept header says (text/csv included); an error is
        # the JSON error shape.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="subscriber_usage_csv",
        summary="A line's itemised usage as CSV",
        tags=TAGS,
        parameters=[UsageFilterSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, "The records as CSV."),
            **errors(400, 401, 404, 422),
        },
    )
    def get(self, request: Request, public_id: UUID) -> Any:
        subscriber = usage_line_get_for(request.user, public_id)
        filters = _usage_filter(_filters(request, UsageFilterSerializer))
        rows = usage_csv_rows(subscriber=subscriber, filters=filters)
        return usage_csv_response(rows, usage_csv_name(subscriber=subscriber, filters=filters))
