"""The parts of order bodies that several operations share: references, lines, events, the
quote, and the query-string filters of the list."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.filters import UtcIsoDateTimeFilter
from common.serializers import AmountField, MoneySerializer
from crm.api.serializers import (
    AccountReferenceSerializer,
    CustomerReferenceSerializer,
    SubscriberReferenceSerializer,
)
from crm.models import User
from orders.models import Order, OrderLine
from orders.services import order_quote

PRORATION_KINDS = frozenset({OrderLine.Kind.PRORATION_CREDIT, OrderLine.Kind.PRORATION_DEBIT})


def _person(user: User | None) -> str | None:
    """Who acted, as a person reads it: a name, or the API key's name."""
    if user is None:
        return None
    return user.get_full_name() or user.email


class OrderFilter(django_filters.FilterSet):
    """Narrows the caller's scoped orders; it never widens them."""

    customer = django_filters.UUIDFilter(
        field_name="customer__public_id", help_text="The customer's public_id."
    )
    subscriber = django_filters.UUIDFilter(
        field_name="subscriber__public_id", help_text="The subscriber's (line's) public_id."
    )
    type = django_filters.ChoiceFilter(choices=Order.Type.choices)
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="ISO 8601; inclusive."
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="ISO 8601; exclusive."
    )

    class Meta:
        model = Order
        fields: list[str] = []


class PlanReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()

    class Meta:
        ref_name = "OrderPlanReference"


class AddOnReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()

    class Meta:
        ref_name = "OrderAddOnReference"


class DeviceReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    serial = serializers.CharField(
        allow_null=True, help_text="The unit reserved for this order, null for none."
    )

    class Meta:
        ref_name = "OrderDeviceReference"


class ProrationSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        help_text="Days charged or credited, the effective day included."
    )
    period_days = serializers.IntegerField(help_text="Days in the plan's period.")
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="The last day of the plan's period.")
    formula = serializers.CharField(
        help_text="How the amount was worked out, e.g. `45 × 21 / 30 days = 31.5000 → 31.50 GBP`."
    )

    class Meta:
        ref_name = "OrderLineProration"


class OrderLineSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="plan, add_on, device, number, sim, activation_fee, proration_credit, "
        "proration_debit or service"
    )
    description = serializers.CharField()
    one_time = AmountField("one_time_amount", help_text="Charged once; negative for a credit.")
    recurring = AmountField("recurring_amount", help_text="Charged every bill period.")
    plan = PlanReferenceSerializer(allow_null=True)
    addon = AddOnReferenceSerializer(allow_null=True)
    device = serializers.SerializerMethodField()
    proration = serializers.SerializerMethodField(
        help_text="The days and formula of a proration credit or debit; null for other lines."
    )

    class Meta:
        ref_name = "OrderLine"

    @extend_schema_field(DeviceReferenceSerializer(allow_null=True))
    def get_device(self, line: OrderLine) -> dict[str, Any] | None:
        if line.device is None:
            return None
        item = line.device_item
        return {
            "public_id": str(line.device.public_id),
            "sku": line.device.sku,
            "name": line.device.name,
            "serial": item.serial if item is not None else None,
        }

    @extend_schema_field(ProrationSerializer(allow_null=True))
    def get_proration(self, line: OrderLine) -> dict[str, Any] | None:
        if line.kind not in PRORATION_KINDS:
            return None
        return ProrationSerializer(line.details).data  # type: ignore[return-value]


class OrderEventSerializer(serializers.Serializer):
    old_status = serializers.CharField(help_text="Empty for the event that placed the order.")
    new_status = serializers.CharField()
    actor = serializers.SerializerMethodField(help_text="Who made the change.")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "OrderEvent"

    def get_actor(self, event: Any) -> str:
        return _person(event.actor) or ""


class QuoteSerializer(serializers.Serializer):
    one_time_total = MoneySerializer(help_text="Every one-time charge: number, SIM, fees, add-ons.")
    recurring_total = MoneySerializer(help_text="The new recurring charge per bill period.")
    proration_total = MoneySerializer(help_text="Proration debits less credits.")
    due_now = MoneySerializer(help_text="One-time charges and proration: on the next bill.")

    class Meta:
        ref_name = "OrderQuote"


class PortInSummarySerializer(serializers.Serializer):
    msisdn = serializers.CharField(source="ported_msisdn", help_text="E.164")
    donor_operator = serializers.CharField()
    port_date = serializers.DateField(source="effective_on")

    class Meta:
        ref_name = "OrderPortInSummary"


class PartnerSummarySerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()

    class Meta:
        ref_name = "OrderPartner"


class OrderFieldsSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    number = serializers.CharField(help_text="e.g. ORD-00000042")
    type = serializers.CharField(
        help_text="new_connection, plan_change, add_on, sim_swap, activate, suspend, resume or "
        "terminate"
    )
    status = serializers.CharField(
        help_text="draft, submitted, in_progress, completed, failed or cancelled"
    )
    allowed_transitions = serializers.SerializerMethodField()
    channel = serializers.CharField(help_text="console, partner, selfcare or api")
    placed_by = serializers.SerializerMethodField(help_text="Who placed the order.")
    customer = CustomerReferenceSerializer()
    account = AccountReferenceSerializer()
    subscriber = SubscriberReferenceSerializer(
        allow_null=True, help_text="The line; for a new connection, once it is completed."
    )
    plan = PlanReferenceSerializer(allow_null=True, help_text="The plan sold or changed to.")
    msisdn = serializers.SerializerMethodField(
        help_text="E.164; the number a new connection reserved, else null."
    )
    iccid = serializers.SerializerMethodField(
        help_text="The SIM a new connection or SIM swap reserved, else null."
    )
    port_in = serializers.SerializerMethodField(
        help_text="A number a new connection brings from another operator, else null."
    )
    partner = PartnerSummarySerializer(
        allow_null=True, help_text="The partner that sold it from its stock, else null."
    )
    effective = serializers.CharField(help_text="now or next_bill_date")
    effective_on = serializers.DateField(allow_null=True)
    reason = serializers.CharField()
    failure_reason = serializers.CharField(help_text="Why a failed order failed, else empty.")
    submitted_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_allowed_transitions(self, order: Order) -> list[str]:
        return sorted(order.allowed_transitions())

    def get_placed_by(self, order: Order) -> str:
        return _person(order.placed_by) or ""

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_msisdn(self, order: Order) -> str | None:
        return order.msisdn.number if order.msisdn is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_iccid(self, order: Order) -> str | None:
        return order.sim.iccid if order.sim is not None else None

    @extend_schema_field(PortInSummarySerializer(allow_null=True))
    def get_port_in(self, order: Order) -> dict[str, Any] | None:
        if not order.ported_msisdn:
            return None
        return PortInSummarySerializer(order).data  # type: ignore[return-value]


class OrderDetailFieldsSerializer(OrderFieldsSerializer):
    lines = OrderLineSerializer(many=True)
    events = OrderEventSerializer(many=True)
    quote = serializers.SerializerMethodField(
        help_text="What the customer is told before submitting."
    )

    @extend_schema_field(QuoteSerializer)
    def get_quote(self, order: Order) -> dict[str, Any]:
        return QuoteSerializer(order_quote(order=order)).data  # type: ignore[return-value]
