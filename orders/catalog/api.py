"""REST API of the product catalog (mounted at /api/v1/catalog/): read-only.

The catalog is public to every authenticated caller: staff, partners, subscribers and API
keys. One APIView per operation; query parameters are checked by a nested FilterSerializer
(a bad value answers 400 in the one error shape); lists are paginated.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import errors
from common.filters import blank_query_refuse
from common.pagination import Pagination
from common.serializers import AmountField
from crm.models import Customer
from crm.selectors import subscriber_get_for
from orders.catalog.models import AddOn, Channel, Device, PricePlan
from orders.catalog.selectors import (
    addons_eligible_for,
    addons_on_sale,
    plan_get_for,
    plans_on_sale,
)
from orders.inventory.selectors import devices_on_sale
from orders.selectors import addon_codes_held_by

TAGS = ["catalog"]


class QuantityField(serializers.DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs)


class AllowanceSerializer(serializers.Serializer):
    service = serializers.CharField(help_text="voice (minutes), sms (messages) or data (MB)")
    quantity = QuantityField()
    scope = serializers.CharField(help_text="all, on_net, off_net or zone")
    zone = serializers.CharField(help_text="The roaming zone when scope is zone, else empty.")

    class Meta:
        ref_name = "CatalogAllowance"


class TierSerializer(serializers.Serializer):
    service = serializers.CharField()
    from_quantity = QuantityField()
    to_quantity = QuantityField(allow_null=True, help_text="null: no upper limit.")
    unit_price = AmountField("unit_price_amount", currency_from="plan")

    class Meta:
        ref_name = "CatalogChargingTier"


class PlanFieldsSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField(help_text="Names the plan across its versions.")
    version = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    payment_type = serializers.CharField(help_text="prepaid or postpaid")
    status = serializers.CharField(help_text="published or retired (draft for catalog managers)")
    recurring_fee = AmountField("recurring_fee_amount")
    recurring_period = serializers.CharField(help_text="month, week or 30d")
    activation_fee = AmountField("activation_fee_amount")
    proration = serializers.CharField(help_text="none or daily")
    tariff_code = serializers.CharField(
        source="tariff.code",
        allow_null=True,
        help_text="The code of the tariff that rates usage beyond the allowances (null: none).",
    )
    eligible_customer_kinds = serializers.ListField(
        child=serializers.CharField(), help_text="Empty: every kind."
    )
    eligible_channels = serializers.ListField(
        child=serializers.CharField(), help_text="Empty: every channel."
    )
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    allowances = AllowanceSerializer(many=True)
    tiers = TierSerializer(many=True)


class AddOnFieldsSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="data_booster, roaming_pack, sms_pack or voice_pack")
    price = AmountField("price_amount")
    validity_days = serializers.IntegerField()
    stackable = serializers.BooleanField(help_text="Whether a line may hold several at once.")
    zone = serializers.CharField(help_text="Roaming zone or country, for roaming packs.")
    plan_codes = serializers.ListField(
        child=serializers.CharField(), help_text="Plan codes it may be bought on; empty: any."
    )
    conflicts_with = serializers.SerializerMethodField(
        help_text="Codes of add-ons a line cannot hold together with this one."
    )
    allowances = AllowanceSerializer(many=True)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_conflicts_with(self, addon: AddOn) -> list[str]:
        return [other.code for other in addon.conflicts_with.all()]


class CatalogListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    def paginated(
        self, request: Request, queryset: QuerySet[Any], output: type[serializers.Serializer]
    ) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(output(page, many=True).data)


def _filters(serializer: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    # A choice or a slug may not be empty (its schema says so); free text may.
    fields = serializer().fields
    free_text = serializers.CharField
    blank_query_refuse(request, (n for n, f in fields.items() if type(f) is not free_text))
    data = serializer(data=request.query_params)
    data.is_valid(raise_exception=True)
    return {k: v for k, v in data.validated_data.items() if v not in (None, "")}


class PlanListApi(CatalogListApi):
    """Plans on sale today: published, within their validity window, and, when filtered,
    eligible for the channel and the kind of customer. Cheapest first within each payment
    type."""

    class FilterSerializer(serializers.Serializer):
        payment_type = serializers.ChoiceField(
            choices=PricePlan.PaymentType.choices, required=False
        )
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)
        customer_kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)

    class OutputSerializer(PlanFieldsSerializer):
        class Meta:
            ref_name = "CatalogPlan"

    @extend_schema(
        operation_id="catalog_plan_list",
        summary="List the price plans on sale",
        tags=TAGS,
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        filters = _filters(self.FilterSerializer, request)
        return self.paginated(request, plans_on_sale(**filters), self.OutputSerializer)


class PlanDetailApi(APIView):
    """Any published or retired version (lines stay on retired versions), with its allowances
    and charging tiers; drafts only for those who manage the catalog."""

    permission_classes = [IsAuthenticated]

    class OutputSerializer(PlanFieldsSerializer):
        class Meta:
            ref_name = "CatalogPlanDetail"

    @extend_schema(
        operation_id="catalog_plan_retrieve",
        summary="One price plan version",
        tags=TAGS,
        responses={200: OutputSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        plan = plan_get_for(request.user, public_id)
        return Response(self.OutputSerializer(plan).data)


class AddOnListApi(CatalogListApi):
    """Add-ons on sale; `plan_code` keeps those that may be bought on that plan."""

    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=AddOn.Kind.choices, required=False)
        plan_code = serializers.SlugField(max_length=40, required=False)

    class OutputSerializer(AddOnFieldsSerializer):
        class Meta:
            ref_name = "CatalogAddOn"

    @extend_schema(
        operation_id="catalog_addon_list",
        summary="List the add-ons on sale",
        tags=TAGS,
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        filters = _filters(self.FilterSerializer, request)
        return self.paginated(request, addons_on_sale(**filters), self.OutputSerializer)


class DeviceListApi(CatalogListApi):
    """Device models on sale, with how many units are in stock."""

    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Device.Kind.choices, required=False)

    class OutputSerializer(serializers.Serializer):
        public_id = serializers.UUIDField()
        sku = serializers.CharField()
        name = serializers.CharField()
        kind = serializers.CharField(help_text="handset, router, modem or accessory")
        price = AmountField("price_amount")
        included_with_plan_codes = serializers.ListField(
            child=serializers.CharField(), help_text="Plans that include it at no charge."
        )
        in_stock = serializers.IntegerField(help_text="Units ready to be sold.")

        class Meta:
            ref_name = "CatalogDevice"

    @extend_schema(
        operation_id="catalog_device_list",
        summary="List the devices on sale",
        tags=TAGS,
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        filters = _filters(self.FilterSerializer, request)
        return self.paginated(request, devices_on_sale(**filters), self.OutputSerializer)


class SubscriberEligibleAddOnListApi(CatalogListApi):
    """The add-ons this line may buy: on sale, in its account's currency and allowed on its
    plan. Someone else's line answers 404."""

    OutputSerializer = AddOnListApi.OutputSerializer

    @extend_schema(
        operation_id="catalog_subscriber_eligible_addon_list",
        summary="List the add-ons a subscriber (line) may buy",
        tags=TAGS,
        responses={200: OutputSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        subscriber = subscriber_get_for(request.user, public_id)
        eligible = addons_eligible_for(subscriber, held_codes=addon_codes_held_by(subscriber))
        return self.paginated(request, eligible, self.OutputSerializer)
