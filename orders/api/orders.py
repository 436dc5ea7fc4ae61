"""Orders: list, read, place (a draft with its quote), submit and cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ListApi, actor_of, errors, fields_named, refuse, require_perm, visible
from common.errors import ApplicationError
from common.idempotency import idempotent
from crm.models import Subscriber
from crm.permissions import CrmPerm
from crm.selectors import account_get_for, subscriber_get_for
from orders.api.serializers import OrderDetailFieldsSerializer, OrderFieldsSerializer, OrderFilter
from orders.catalog.models import Channel
from orders.catalog.selectors import addon_get, plan_get_for
from orders.inventory.models import Msisdn
from orders.inventory.selectors import device_get
from orders.models import Order
from orders.permissions import OrdersPerm
from orders.placing import (
    PortIn,
    order_addon_create,
    order_new_connection_create,
    order_plan_change_create,
    order_service_change_create,
    order_sim_swap_create,
)
from orders.selectors import order_get_for, order_qs_for
from orders.services import order_cancel, order_place

TAGS = ["orders"]
CHANNEL = Channel.API
TERMINATE_DENIED = "Your role or API key may not terminate lines."


class OrderDetailApi(APIView):
    """With its lines (amounts, and the days and formula of each proration), its history and
    the quote. Someone else's order answers 404."""

    class OutputSerializer(OrderDetailFieldsSerializer):
        class Meta:
            ref_name = "OrderDetail"

    @extend_schema(
        operation_id="order_retrieve",
        summary="One order with its lines, history and quote",
        tags=TAGS,
        responses={200: OutputSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        order = order_get_for(request.user, public_id)
        return Response(self.OutputSerializer(order).data)


# --- placing ------------------------------------------------------------------------------------


def _type_field(*types: Order.Type) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[(t.value, t.label) for t in types])


Getter = Callable[[Any, UUID], Any]

_LIST_NOUNS = {"addons": "add-on", "devices": "device"}


def _addon_for(actor: Any, public_id: UUID) -> Any:
    return addon_get(public_id)  # the catalog is open to every caller


def _device_for(actor: Any, public_id: UUID) -> Any:
    return device_get(public_id)


def _references(request: Request, **wanted: tuple[Getter, Any]) -> dict[str, Any]:
    """Every object the body names (one public_id, or a list of them), each one the caller may
    see. All unknown ones are reported at once; someone else's account or line is as unknown
    as one that does not exist."""
    found: dict[str, Any] = {}
    unknown: dict[str, list[str]] = {}
    for name, (get_for, value) in wanted.items():
        if isinstance(value, list):
            found[name] = []
            for public_id in value:
                try:
                    found[name].append(get_for(request.user, public_id))
                except Http404:
                    unknown.setdefault(name, []).append(
                        f"There is no {_LIST_NOUNS[name]} with the id {public_id}."
                    )
            continue
        try:
            found[name] = visible(get_for, request, name, value)
        except ApplicationError as exc:
            unknown.update(exc.fields)
    if unknown:
        refuse(unknown)
    return found


class PortInSerializer(serializers.Serializer):
    msisdn = serializers.CharField(max_length=32, help_text="The number to bring, any format.")
    donor_operator = serializers.CharField(
        max_length=80, help_text="The operator it comes from (one of PORT_IN_DONOR_OPERATORS)."
    )
    port_date = serializers.DateField(help_text="The day it moves over: today to 30 days ahead.")

    class Meta:
        ref_name = "OrderPortIn"


class OrderListCreateApi(ListApi):
    """GET lists the orders the caller may see: visible exactly when their customer is (staff
    and keys holding crm.view_any_customer see every order, a reseller those of its partner
    subtree's customers, a subscriber their own); newest first.

    POST needs orders.place_order (a terminate order also crm.terminate_subscriber). It places a
    draft through the API channel: the number, SIM and devices it sells are reserved at once,
    and the answer carries the quote. Nothing is applied until the order is submitted. An
    account, line or catalog item the caller may not see is reported as unknown."""

    filterset_class = OrderFilter

    class ListOutputSerializer(OrderFieldsSerializer):
        class Meta:
            ref_name = "Order"

    class InputSerializer(serializers.Serializer):
        """Reads the type; the type's own serializer below reads the rest of the body."""

        type = serializers.ChoiceField(choices=Order.Type.choices)

    class NewConnectionInputSerializer(serializers.Serializer):
        type = _type_field(Order.Type.NEW_CONNECTION)
        account = serializers.UUIDField(help_text="The account's public_id.")
        plan = serializers.UUIDField(help_text="The price plan version's public_id.")
        msisdn = serializers.CharField(
            max_length=32,
            required=False,
            allow_blank=True,
            help_text="A number from the pool, any format; or give number_category.",
        )
        number_category = serializers.ChoiceField(
            choices=Msisdn.Category.choices,
            required=False,
            help_text="Take the next available number of this category; or give msisdn.",
        )
        port_in = PortInSerializer(
            required=False,
            help_text="Bring the customer's number from another operator instead of a number "
            "from the pool; the order completes on the port date.",
        )
        iccid = serializers.CharField(max_length=32, help_text="The SIM's ICCID, in stock.")
        addons = serializers.ListField(
            child=serializers.UUIDField(),
            required=False,
            max_length=20,
            help_text="public_ids of add-ons bought with the line.",
        )
        devices = serializers.ListField(
            child=serializers.UUIDField(),
            required=False,
            max_length=10,
            help_text="public_ids of device models; a unit of each is reserved.",
        )

        class Meta:
            ref_name = "OrderNewConnection"

        def validate(self, data: dict[str, Any]) -> dict[str, Any]:
            if data.get("msisdn") and data.get("number_category"):
                refuse({"number_category": ["Give a number or a number category, not both."]})
            if data.get("port_in") and (data.get("msisdn") or data.get("number_category")):
                refuse({"port_in": ["Port a number in or take one from the pool, not both."]})
            return data

    class PlanChangeInputSerializer(serializers.Serializer):
        type = _type_field(Order.Type.PLAN_CHANGE)
        subscriber = serializers.UUIDField(help_text="The line's public_id.")
        plan = serializers.UUIDField(help_text="The new price plan version's public_id.")
        effective = serializers.ChoiceField(
            choices=Order.Effective.choices,
            default=Order.Effective.NOW,
            help_text="now (prorated by day) or next_bill_date (no proration).",
        )

        class Meta:
            ref_name = "OrderPlanChange"

    class AddOnInputSerializer(serializers.Serializer):
        type = _type_field(Order.Type.ADD_ON)
        subscriber = serializers.UUIDField(help_text="The line's public_id.")
        addon = serializers.UUIDField(help_text="The add-on's public_id.")

        class Meta:
            ref_name = "OrderAddOn"

    class SimSwapInputSerializer(serializers.Serializer):
        type = _type_field(Order.Type.SIM_SWAP)
        subscriber = serializers.UUIDField(help_text="The line's public_id.")
        iccid = serializers.CharField(max_length=32, help_text="The new SIM's ICCID, in stock.")
        reason = serializers.CharField(max_length=200, help_text="e.g. lost, stolen, damaged.")

        class Meta:
            ref_name = "OrderSimSwap"

    class ServiceChangeInputSerializer(serializers.Serializer):
        type = _type_field(
            Order.Type.ACTIVATE, Order.Type.SUSPEND, Order.Type.RESUME, Order.Type.TERMINATE
        )
        subscriber = serializers.UUIDField(help_text="The line's public_id.")
        reason = serializers.CharField(max_length=200, help_text="Why; kept in the audit trail.")

        class Meta:
            ref_name = "OrderServiceChange"

    OutputSerializer = OrderDetailApi.OutputSerializer

    # The body's serializer for each order type (and the schema's discriminator mapping).
    INPUTS: ClassVar[dict[str, type[serializers.Serializer]]] = {
        Order.Type.NEW_CONNECTION.value: NewConnectionInputSerializer,
        Order.Type.PLAN_CHANGE.value: PlanChangeInputSerializer,
        Order.Type.ADD_ON.value: AddOnInputSerializer,
        Order.Type.SIM_SWAP.value: SimSwapInputSerializer,
        Order.Type.ACTIVATE.value: ServiceChangeInputSerializer,
        Order.Type.SUSPEND.value: ServiceChangeInputSerializer,
        Order.Type.RESUME.value: ServiceChangeInputSerializer,
        Order.Type.TERMINATE.value: ServiceChangeInputSerializer,
    }

    def get_queryset(self) -> QuerySet[Order]:
        return order_qs_for(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        operation_id="order_list",
        summary="List the orders the caller may see",
        tags=TAGS,
        responses={200: ListOutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        return self.paginated(self.get_queryset(), self.ListOutputSerializer)

    @extend_schema(
        operation_id="order_create",
        summary="Place an order as a draft and get its quote",
        tags=TAGS,
        request=PolymorphicProxySerializer(
            component_name="OrderCreate",
            serializers=cast("dict[str, Any]", INPUTS),
            resource_type_field_name="type",
        ),
        responses={201: OutputSerializer, **errors(400, 401, 403, 409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        require_perm(request, OrdersPerm.PLACE_ORDER)
        kind = self.InputSerializer(data=request.data)
        kind.is_valid(raise_exception=True)
        order_type = kind.validated_data["type"]
        if order_type == Order.Type.TERMINATE:
            require_perm(request, CrmPerm.TERMINATE_SUBSCRIBER, TERMINATE_DENIED)
        serializer = self.INPUTS[order_type](data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if order_type == Order.Type.NEW_CONNECTION:
            order = self._new_connection(request, data)
        else:
            order = self._line_change(request, order_type, data)
        order = order_get_for(request.user, order.public_id)
        return Response(self.OutputSerializer(order).data, status=status.HTTP_201_CREATED)

    def _new_connection(self, request: Request, data: dict[str, Any]) -> Order:
        found = _references(
            request,
            account=(account_get_for, data["account"]),
            plan=(plan_get_for, data["plan"]),
            addons=(_addon_for, data.get("addons", [])),
            devices=(_device_for, data.get("devices", [])),
        )
        port_in = data.get("port_in")
        names = {
            "category": "number_category",
            "port_msisdn": "port_in.msisdn",
            "donor_operator": "port_in.donor_operator",
            "port_date": "port_in.port_date",
        }
        with fields_named(names):
            return order_new_connection_create(
                actor=actor_of(request),
                channel=CHANNEL,
                account=found["account"],
                plan=found["plan"],
                msisdn=data.get("msisdn") or None,
                number_category=data.get("number_category"),
                port_in=PortIn(**port_in) if port_in else None,
                iccid=data["iccid"],
                addons=found["addons"],
                devices=found["devices"],
            )

    def _line_change(self, request: Request, order_type: str, data: dict[str, Any]) -> Order:
        wanted: dict[str, tuple[Getter, Any]] = {
            "subscriber": (subscriber_get_for, data["subscriber"])
        }
        if order_type == Order.Type.PLAN_CHANGE:
            wanted["plan"] = (plan_get_for, data["plan"])
        if order_type == Order.Type.ADD_ON:
            wanted["addon"] = (_addon_for, data["addon"])
        found = _references(request, **wanted)
        line: Subscriber = found["subscriber"]
        actor = actor_of(request)
        if order_type == Order.Type.PLAN_CHANGE:
            return order_plan_change_create(
                actor=actor,
                channel=CHANNEL,
                subscriber=line,
                plan=found["plan"],
                effective=data["effective"],
            )
        if order_type == Order.Type.ADD_ON:
            with fields_named({"addons": "addon"}):
                return order_addon_create(
                    actor=actor, channel=CHANNEL, subscriber=line, addon=found["addon"]
                )
        if order_type == Order.Type.SIM_SWAP:
            return order_sim_swap_create(
                actor=actor,
                channel=CHANNEL,
                subscriber=line,
                iccid=data["iccid"],
                reason=data["reason"],
            )
        return order_service_change_create(
            actor=actor, channel=CHANNEL, subscriber=line, type=order_type, reason=data["reason"]
        )


# --- submitting and cancelling ------------------------------------------------------------------


class OrderTransitionApi(APIView):
    """A status change of an order, recorded with who, when and why. Needs orders.place_order
    (and crm.terminate_subscriber to submit a terminate order), checked once the order has been
    found: someone else's order answers 404. A change the order's status does not allow answers
    409 `invalid_transition`."""

    OutputSerializer = OrderDetailApi.OutputSerializer

    def fetch(self, request: Request, public_id: UUID) -> Order:
        order = order_get_for(request.user, public_id)
        require_perm(request, OrdersPerm.PLACE_ORDER)
        return order

    def answer(self, request: Request, order: Order) -> Response:
        order = order_get_for(request.user, order.public_id)
        return Response(self.OutputSerializer(order).data)


class OrderSubmitApi(OrderTransitionApi):
    """Submits a draft and, when it takes effect today, completes it at once: the answer is the
    completed order, a submitted one waiting for its effective date (a plan change at the next
    bill date), or a failed one with its `failure_reason` (say its reserved number was sold
    after the reservation lapsed); a failed order releases what it held and applies nothing."""

    @extend_schema(
        operation_id="order_submit",
        summary="Submit a draft order (completing it when it takes effect today)",
        tags=TAGS,
        request=None,
        responses={200: OrderTransitionApi.OutputSerializer, **errors(401, 403, 404, 409)},
    )
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        order = self.fetch(request, public_id)
        if order.type == Order.Type.TERMINATE:
            require_perm(request, CrmPerm.TERMINATE_SUBSCRIBER, TERMINATE_DENIED)
        order = order_place(order=order, actor=actor_of(request))
        return self.answer(request, order)


class OrderCancelApi(OrderTransitionApi):
    """Cancels an order before it is applied; the number, SIM and devices it reserved go back
    to stock."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, help_text="Why; kept in the audit trail.")

        class Meta:
            ref_name = "OrderCancel"

    @extend_schema(
        operation_id="order_cancel",
        summary="Cancel an order that has not been applied",
        tags=TAGS,
        request=InputSerializer,
        responses={
            200: OrderTransitionApi.OutputSerializer,
            **errors(400, 401, 403, 404, 409),
        },
    )
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        order = self.fetch(request, public_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_cancel(
            order=order, actor=actor_of(request), reason=serializer.validated_data["reason"]
        )
        return self.answer(request, order)
