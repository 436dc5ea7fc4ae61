"""Subscribers (lines): list, read with what the line holds, and the service changes.

Lines are connected by new-connection orders (POST /api/v1/orders/). Each service change here
(activate, suspend, resume, terminate) is the same one door the console uses
(orders.lines): it places an order through the API channel and completes it at once, so a
terminate here returns the number to quarantine, blocks the SIM, ends allowances and add-ons,
credits the plan's unused days and cancels the line's open orders, exactly like a terminate
order placed anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.selectors import allowances_live_for
from common.api import ListApi, actor_of, errors, require_perm
from common.idempotency import idempotent
from crm.api.serializers import SubscriberFieldsSerializer
from crm.filters import SubscriberFilter
from crm.models import Subscriber
from crm.permissions import CrmPerm
from crm.selectors import subscriber_get_for, subscriber_qs_for
from orders.catalog.models import Channel
from orders.lines import line_activate, line_resume, line_suspend, line_terminate
from orders.models import Order, SubscriberAddOn

CHANNEL = Channel.API


class SubscriberListApi(ListApi):
    """Scoped like the customers they belong to; newest first. The `msisdn` filter takes a
    number typed any way: `07400 123456` finds +447400123456. New lines come from
    new-connection orders (POST /api/v1/orders/)."""

    filterset_class = SubscriberFilter

    class OutputSerializer(SubscriberFieldsSerializer):
        class Meta:
            ref_name = "Subscriber"

    def get_queryset(self) -> QuerySet[Subscriber]:
        return subscriber_qs_for(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        operation_id="subscriber_list",
        summary="List the subscribers (lines) the caller may see",
        tags=["subscribers"],
        responses={200: OutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        return self.paginated(self.get_queryset(), self.OutputSerializer)


class HeldAddOnSerializer(serializers.Serializer):
    code = serializers.CharField(source="addon.code")
    name = serializers.CharField(source="addon.name")
    kind = serializers.CharField(source="addon.kind")
    activated_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    order = serializers.CharField(source="order.number", help_text="The order that bought it.")

    class Meta:
        ref_name = "SubscriberAddOn"


class AllowanceHeldSerializer(serializers.Serializer):
    service = serializers.CharField(help_text="voice (minutes), sms (messages) or data (MB)")
    scope = serializers.CharField(help_text="all, on_net, off_net or zone")
    zone = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2)
    used = serializers.DecimalField(max_digits=14, decimal_places=2)
    remaining = serializers.DecimalField(max_digits=14, decimal_places=2)
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    origin = serializers.CharField(
        source="name", help_text="The plan or add-on (and order) it came from."
    )

    class Meta:
        ref_name = "SubscriberAllowance"


class SubscriberDetailOutputSerializer(SubscriberFieldsSerializer):
    addons = serializers.SerializerMethodField(help_text="Add-ons held now, with their expiry.")
    allowances = serializers.SerializerMethodField(
        help_text="Allowances in force now, with what is left of each."
    )

    class Meta:
        ref_name = "SubscriberDetail"

    @extend_schema_field(HeldAddOnSerializer(many=True))
    def get_addons(self, subscriber: Subscriber) -> Any:
        held = (
            SubscriberAddOn.objects.filter(subscriber=subscriber, expires_at__gt=timezone.now())
            .select_related("addon", "order")
            .order_by("expires_at", "pk")
        )
        return HeldAddOnSerializer(held, many=True).data

    @extend_schema_field(AllowanceHeldSerializer(many=True))
    def get_allowances(self, subscriber: Subscriber) -> Any:
        return AllowanceHeldSerializer(allowances_live_for(subscriber), many=True).data


class SubscriberDetailApi(APIView):
    """With the plan version it is on, the add-ons it holds and its allowances. Someone else's
    line answers 404."""

    OutputSerializer = SubscriberDetailOutputSerializer

    @extend_schema(
        operation_id="subscriber_retrieve",
        summary="One subscriber (line) with what it holds",
        tags=["subscribers"],
        responses={200: OutputSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        subscriber = subscriber_get_for(request.user, public_id)
        return Response(self.OutputSerializer(subscriber).data)


class OrderReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    number = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()

    class Meta:
        ref_name = "OrderReference"


class SubscriberChangeOutputSerializer(SubscriberDetailOutputSerializer):
    order = serializers.SerializerMethodField(help_text="The order that made the change.")

    class Meta:
        ref_name = "SubscriberChange"

    @extend_schema_field(OrderReferenceSerializer)
    def get_order(self, subscriber: Subscriber) -> Any:
        return OrderReferenceSerializer(self.context["order"]).data


class SubscriberServiceChangeApi(APIView):
    """A service change of a line, placed as an order through the API channel and completed
    at once; the answer is the line after the change, with the order that made it. Activate,
    suspend and resume need crm.change_subscriber_status, terminate needs
    crm.terminate_subscriber. A change the line's status does not allow answers 409
    `invalid_transition` and writes nothing; someone else's line 404."""

    service: ClassVar[Callable[..., Order]]
    permission: ClassVar[str] = CrmPerm.CHANGE_SUBSCRIBER_STATUS
    denied: ClassVar[str] = "Your role or API key may not do this."

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, help_text="Why; kept in the audit trail.")

        class Meta:
            ref_name = "SubscriberStatusChange"

    OutputSerializer = SubscriberChangeOutputSerializer

    def change(self, request: Request, public_id: UUID) -> Response:
        subscriber = subscriber_get_for(request.user, public_id)
        require_perm(request, type(self).permission, type(self).denied)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = type(self).service(
            subscriber=subscriber,
            actor=actor_of(request),
            reason=serializer.validated_data["reason"],
            channel=CHANNEL,
        )
        subscriber = subscriber_get_for(request.user, public_id)
        return Response(self.OutputSerializer(subscriber, context={"order": order}).data)


def _change_schema(action: str, summary: str) -> Callable[[Any], Any]:
    return extend_schema(
        operation_id=f"subscriber_{action}",
        summary=summary,
        tags=["subscribers"],
        request=SubscriberServiceChangeApi.InputSerializer,
        responses={
            200: SubscriberServiceChangeApi.OutputSerializer,
            **errors(400, 401, 403, 404, 409),
        },
    )


class SubscriberActivateApi(SubscriberServiceChangeApi):
    service = staticmethod(line_activate)

    @_change_schema("activate", "Activate a pending line")
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        return self.change(request, public_id)


class SubscriberSuspendApi(SubscriberServiceChangeApi):
    service = staticmethod(line_suspend)

    @_change_schema("suspend", "Suspend (bar) an active line")
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        return self.change(request, public_id)


class SubscriberResumeApi(SubscriberServiceChangeApi):
    service = staticmethod(line_resume)

    @_change_schema("resume", "Resume a suspended line")
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        return self.change(request, public_id)


class SubscriberTerminateApi(SubscriberServiceChangeApi):
    permission = CrmPerm.TERMINATE_SUBSCRIBER
    denied = "Your role or API key may not terminate lines."
    service = staticmethod(line_terminate)

    @_change_schema(
        "terminate",
        "Terminate a line: number to quarantine, SIM blocked, unused days credited",
    )
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        return self.change(request, public_id)
