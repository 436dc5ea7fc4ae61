"""REST API of tariffs (mounted at /api/v1/): read tariffs and their versions, and ask what a
call, message or data session would cost (billing.view_tariffs: admins, API keys it is granted
to); create a tariff and rename or describe it (billing.manage_tariffs). A version's content is
edited, imported and published in the back office.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.permissions import BillingPerm
from billing.rating.models import Category, Tariff, TariffVersion
from billing.rating.plan import ANY, SECOND
from billing.rating.selectors import MB, tariff_get, tariff_list, tariff_of_plan
from billing.rating.services import rating_quote, tariff_create, tariff_update
from common.api import actor_of, errors, has_perm, refuse, require_perm
from common.pagination import Pagination
from common.serializers import CurrencyField, TextField

TAGS = ["tariffs"]


class StrictRegexField(serializers.RegexField):
    """A string matching its pattern; a JSON number or boolean is refused (its schema says
    string), never turned into one."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


CODE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class VersionSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    number = serializers.IntegerField()
    status = serializers.CharField(help_text="draft, published or retired")
    valid_from = serializers.DateTimeField(
        allow_null=True, help_text="From when it rates calls (published versions)."
    )
    published_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.SerializerMethodField(help_text="Rows per section of its tariff plan.")

    class Meta:
        ref_name = "TariffVersion"

    def get_counts(self, version: TariffVersion) -> dict[str, int]:
        content = version.content or {}
        sections = (
            "destinations",
            "rates",
            "timings",
            "destination_rates",
            "rating_plans",
            "rating_profiles",
        )
        return {section: len(content.get(section, [])) for section in sections}


class TariffFieldsSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    description = serializers.CharField()


class TariffDetailOutput(TariffFieldsSerializer):
    versions = VersionSerializer(many=True, source="versions.all")

    class Meta:
        ref_name = "TariffDetail"


class TariffListApi(APIView):
    """Every tariff, by code."""

    permission_classes = [has_perm(BillingPerm.VIEW_TARIFFS)]
    pagination_class = Pagination

    class OutputSerializer(TariffFieldsSerializer):
        class Meta:
            ref_name = "Tariff"

    @extend_schema(
        operation_id="tariff_list",
        summary="List the tariffs",
        tags=TAGS,
        responses={200: OutputSerializer(many=True), **errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        queryset: QuerySet[Tariff] = tariff_list()
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)

    class InputSerializer(serializers.Serializer):
        code = StrictRegexField(
            CODE_PATTERN, max_length=40, help_text="Lower-case, e.g. postpaid-standard."
        )
        name = TextField(max_length=120)
        currency = CurrencyField()
        description = TextField(required=False, allow_blank=True, max_length=2000, default="")
        reason = TextField(required=False, allow_blank=True, max_length=200, default="")

        class Meta:
            ref_name = "TariffCreate"

    @extend_schema(
        operation_id="tariff_create",
        summary="Create a tariff (with an empty draft version 1)",
        tags=TAGS,
        request=InputSerializer,
        responses={201: TariffDetailOutput, **errors(400, 401, 403, 422)},
    )
    def post(self, request: Request) -> Response:
        require_perm(request, BillingPerm.MANAGE_TARIFFS)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tariff = tariff_create(actor=actor_of(request), **data.validated_data)
        return Response(TariffDetailOutput(tariff).data, status=201)


class TariffDetailApi(APIView):
    """One tariff with its versions, newest first."""

    permission_classes = [has_perm(BillingPerm.VIEW_TARIFFS)]

    @extend_schema(
        operation_id="tariff_retrieve",
        summary="One tariff with its versions",
        tags=TAGS,
        responses={200: TariffDetailOutput, **errors(401, 403, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(TariffDetailOutput(tariff_get(code)).data)

    class UpdateSerializer(serializers.Serializer):
        name = TextField(required=False, max_length=120)
        description = TextField(required=False, allow_blank=True, max_length=2000)
        reason = TextField(max_length=200, help_text="Why it changes; kept in the audit trail.")

        class Meta:
            ref_name = "TariffUpdate"

    @extend_schema(
        operation_id="tariff_partial_update",
        summary="Rename a tariff or rewrite its description (code and currency stay)",
        tags=TAGS,
        request=UpdateSerializer,
        responses={200: TariffDetailOutput, **errors(400, 401, 403, 404, 422)},
    )
    def patch(self, request: Request, code: str) -> Response:
        tariff = tariff_get(code)
        require_perm(request, BillingPerm.MANAGE_TARIFFS)
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        tariff = tariff_update(
            tariff=tariff,
            actor=actor_of(request),
            name=values.get("name", tariff.name),
            description=values.get("description", tariff.description),
            reason=values["reason"],
        )
        return Response(TariffDetailOutput(tariff).data)


UNIT_FACTORS: dict[str, tuple[Decimal, str]] = {
    # unit: (base units per unit, the category kind it measures)
    "seconds": (Decimal(SECOND), "time"),
    "nanoseconds": (Decimal(1), "time"),
    "messages": (Decimal(1), "count"),
    "bytes": (Decimal(1), "volume"),
    "mb": (Decimal(MB), "volume"),
}
CATEGORY_KINDS = {"call": "time", "sms": "count", "mms": "count", "data": "volume"}


class RatingQuoteApi(APIView):
    """What a usage would cost: rated by the tariff version in force at `answer_time`, exactly
    as usage records are rated. An unknown subject answers 422 `no_rating_profile`, a number
    the tariff has no rate for 422 `no_rate_for_destination`, a time before any version 422
    `no_tariff_in_force`: never a zero cost. Reading only: no Idempotency-Key needed."""

    permission_classes = [has_perm(BillingPerm.VIEW_TARIFFS)]

    class InputSerializer(serializers.Serializer):
        class UsageSerializer(serializers.Serializer):
            amount = StrictRegexField(
                r"^[0-9]{1,12}(\.[0-9]{1,3})?$",
                help_text='A decimal string, e.g. "95" or "2.5".',
            )
            unit = serializers.ChoiceField(
                choices=list(UNIT_FACTORS),
                help_text="seconds or nanoseconds for calls, messages for SMS and MMS, mb "
                "(1,000,000 bytes) or bytes for data.",
            )

            class Meta:
                ref_name = "RatingQuoteUsage"

        tariff_code = StrictRegexField(
            CODE_PATTERN, max_length=40, required=False, help_text="Rate on this tariff; or:"
        )
        plan_code = StrictRegexField(
            CODE_PATTERN,
            max_length=40,
            required=False,
            help_text="rate on this price plan's tariff, the plan code as the subject.",
        )
        category = serializers.ChoiceField(choices=Category.choices, default=Category.CALL)
        subject = StrictRegexField(
            r"^[A-Za-z0-9_.+*\-]{1,64}$",
            required=False,
            help_text="Who is rated; default *any (or the plan code with plan_code).",
        )
        destination = StrictRegexField(
            r"^\+?[0-9A-Za-z*#]{0,32}$",
            required=False,
            default="",
            help_text="The number called (digits, international format without +); empty for data.",
        )
        answer_time = serializers.DateTimeField(
            help_text="When the usage started; time bands use the operator's time zone."
        )
        usage = UsageSerializer()
        cgrates_rounding = serializers.IntegerField(
            min_value=0,
            max_value=10,
            required=False,
            allow_null=True,
            help_text="Round as CGRateS does, to this many decimals (to compare costs).",
        )

        class Meta:
            ref_name = "RatingQuoteInput"

    class OutputSerializer(serializers.Serializer):
        cost = serializers.CharField(help_text='The cost as a decimal string, e.g. "0.2675".')
        currency = serializers.CharField()
        tariff_code = serializers.CharField()
        version = serializers.IntegerField(help_text="The tariff version that rated it.")
        subject_used = serializers.CharField()
        rating_plan_id = serializers.CharField()
        destination_id = serializers.CharField()
        matched_prefix = serializers.CharField()
        usage_rated = serializers.IntegerField(help_text="In base units.")
        connect_fee = serializers.CharField()
        trace = serializers.ListField(
            child=serializers.DictField(),
            help_text="The rated parts: times, time band, rate group, increments, cost.",
        )

        class Meta:
            ref_name = "RatingQuote"

    @extend_schema(
        operation_id="rating_quote",
        summary="What would this cost?",
        tags=TAGS,
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(400, 401, 403, 422)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        tariff_code, plan_code = data.get("tariff_code"), data.get("plan_code")
        if bool(tariff_code) == bool(plan_code):
            refuse({"tariff_code": ["Give either tariff_code or plan_code (one of them)."]})
        tariff = (
            Tariff.objects.filter(code=tariff_code).first()
            if tariff_code
            else tariff_of_plan(str(plan_code))
        )
        if tariff is None:
            name = "tariff_code" if tariff_code else "plan_code"
            refuse(
                {
                    name: [
                        "No tariff by this code."
                        if tariff_code
                        else "No tariff: this plan does not exist or has no tariff (no_tariff)."
                    ]
                }
            )
        factor, kind = UNIT_FACTORS[data["usage"]["unit"]]
        if CATEGORY_KINDS[data["category"]] != kind:
            refuse(
                {"usage.unit": [f"{data['usage']['unit']} does not measure {data['category']}."]}
            )
        base = Decimal(data["usage"]["amount"]) * factor
        if base != base.to_integral_value():
            refuse({"usage.amount": ["Messages, bytes and nanoseconds are whole numbers."]})
        quote = rating_quote(
            tariff=tariff,
            category=data["category"],
            destination=data["destination"],
            answer_time=data["answer_time"],
            usage=int(base),
            subject=data.get("subject") or (str(plan_code) if plan_code else ANY),
            cgrates_decimals=data.get("cgrates_rounding"),
        )
        result = quote.result
        body = {
            "cost": str(quote.cost.amount),
            "currency": quote.cost.currency,
            "tariff_code": tariff.code,
            "version": quote.version.number,
            "subject_used": result["subject_used"],
            "rating_plan_id": result["rating_plan_id"],
            "destination_id": result["destination_id"],
            "matched_prefix": result["matched_prefix"],
            "usage_rated": result["usage_rated"],
            "connect_fee": result["connect_fee"],
            "trace": result["trace"],
        }
        return Response(self.OutputSerializer(body).data)
