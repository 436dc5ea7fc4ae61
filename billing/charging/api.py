"""Online charging API for network elements (an API key with billing.charge_online), mounted at
/api/v1/charging/: event charging, session charging (initiate, update, terminate) and the
balance of a line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.balances.selectors import buckets_for_line
from billing.charging.models import ChargingRequest
from billing.charging.services import SERVICES, ChargingEvent, event_charge
from billing.charging.sessions import (
    SESSION_SERVICES,
    session_initiate,
    session_terminate,
    session_update,
)
from billing.permissions import BillingPerm
from billing.usage.parsers import Numbers
from common.api import actor_of, errors, has_perm, refuse
from common.idempotency import idempotent
from common.serializers import AmountStringField
from crm.models import Subscriber

TAGS = ["charging"]
# Network elements are capacity-planned machine clients: a per-key request rate would refuse
# subscribers' calls and messages, so the charging API has none (the people's API keeps its own).
NO_THROTTLE: list[Any] = []
REQUEST_ID = r"^[A-Za-z0-9._:@-]{1,120}$"


class EventInputSerializer(serializers.Serializer):
    request_id = serializers.RegexField(
        REQUEST_ID,
        help_text="The client's own id of this request (1-120 of A-Z a-z 0-9 . _ : @ -): "
        "sending it again returns the first answer and changes nothing.",
    )
    msisdn = serializers.CharField(max_length=20, help_text="The charged line, E.164.")
    service = serializers.ChoiceField(
        choices=SERVICES, help_text="sms, mms, or service (a fixed-price service)."
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=100, default=1, help_text="Messages (a service event: 1)."
    )
    destination = serializers.CharField(
        max_length=40, required=False, default="", help_text="The called number, if any."
    )
    amount = AmountStringField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The price of a service event, in the account's currency (more than 0).",
    )
    occurred_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When; now if left out."
    )

    class Meta:
        ref_name = "ChargingEventInput"


class EventAnswerSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    result = serializers.ChoiceField(choices=ChargingRequest.Result.choices)
    reason = serializers.CharField(
        help_text="Why it was denied: insufficient_balance, line_barred, unknown_subscriber, "
        "no_rate; empty when granted."
    )
    detail = serializers.CharField()
    units_charged = serializers.DecimalField(max_digits=22, decimal_places=4)
    amount_charged = serializers.DecimalField(max_digits=22, decimal_places=4)
    currency = serializers.CharField()

    class Meta:
        ref_name = "ChargingEventAnswer"


class ChargingEventApi(APIView):
    """Check and debit one SMS, MMS or fixed-price service event in one step. The answer is 200
    whether granted or denied (`result`, with a machine-readable `reason`); 400 when the request
    breaks the schema, 422 when its request id was used for another event."""

    permission_classes = [has_perm(BillingPerm.CHARGE_ONLINE)]
    throttle_classes = NO_THROTTLE

    @extend_schema(
        operation_id="charging_event",
        summary="Charge one event",
        tags=TAGS,
        request=EventInputSerializer,
        responses={200: EventAnswerSerializer, **errors(400, 401, 403, 422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        given = EventInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        if data["service"] == "service" and data["amount"] is None:
            refuse({"amount": ["A service event needs its price."]})
        if data["amount"] is not None and data["amount"] <= 0:
            refuse({"amount": ["A price is more than 0."]})
        answer = event_charge(
            client=actor_of(request),
            request_id=data["request_id"],
            event=ChargingEvent(
                msisdn=data["msisdn"],
                service=data["service"],
                quantity=data["quantity"],
                destination=data["destination"],
                amount=data["amount"],
                occurred_at=data["occurred_at"],
            ),
        )
        return Response(EventAnswerSerializer(answer).data)


class BucketSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    unit = serializers.CharField(help_text="money, seconds, messages or bytes")
    currency = serializers.CharField()
    service = serializers.CharField()
    balance = serializers.DecimalField(max_digits=22, decimal_places=4)
    reserved = serializers.DecimalField(max_digits=22, decimal_places=4)
    available = serializers.DecimalField(max_digits=22, decimal_places=4)
    status = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "BalanceBucket"


class BalanceQuerySerializer(serializers.Serializer):
    msisdn = serializers.CharField(max_length=20)


class ChargingBalanceApi(APIView):
    """A line's buckets as the charging system sees them: balance, held, available."""

    permission_classes = [has_perm(BillingPerm.CHARGE_ONLINE)]
    throttle_classes = NO_THROTTLE

    @extend_schema(
        operation_id="charging_balance",
        summary="A line's balances",
        tags=TAGS,
        parameters=[BalanceQuerySerializer],
        responses={200: BucketSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        query = BalanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        line = _line(query.validated_data["msisdn"])
        return Response(BucketSerializer(buckets_for_line(line), many=True).data)


def _line(msisdn: str) -> Any:
    e164, problem = Numbers().normalise(msisdn)
    line = None if problem else Subscriber.objects.filter(msisdn=e164).first()
    if line is None:
        raise Http404("No line has this number.")
    return line


# --- sessions ------------------------------------------------------------------------------------


class SessionAnswerSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    session_id = serializers.SerializerMethodField()
    result = serializers.ChoiceField(choices=ChargingRequest.Result.choices)
    reason = serializers.CharField(
        help_text="Why it was denied: insufficient_balance, line_barred, unknown_subscriber, "
        "no_rate, unknown_session, session_exists; empty when granted."
    )
    detail = serializers.CharField()
    granted_units = serializers.DecimalField(
        max_digits=22, decimal_places=4, help_text="The quota reserved: seconds or bytes."
    )
    used_total = serializers.DecimalField(
        source="units_charged", max_digits=22, decimal_places=4, help_text="Used so far."
    )
    charged_total = serializers.DecimalField(
        source="amount_charged", max_digits=22, decimal_places=4, help_text="Money so far."
    )
    currency = serializers.CharField()

    class Meta:
        ref_name = "ChargingSessionAnswer"

    def get_session_id(self, answer: ChargingRequest) -> str:
        return answer.session.session_id if answer.session is not None else ""


class SessionInitiateSerializer(serializers.Serializer):
    request_id = serializers.RegexField(REQUEST_ID)
    session_id = serializers.RegexField(REQUEST_ID, help_text="The client's id of the session.")
    msisdn = serializers.CharField(max_length=20)
    service = serializers.ChoiceField(choices=SESSION_SERVICES)
    destination = serializers.CharField(
        max_length=100, required=False, default="", help_text="Called number, or the APN."
    )
    requested = serializers.IntegerField(
        min_value=1, max_value=10**12, required=False, allow_null=True, default=None,
        help_text="Quota asked: seconds (voice) or bytes (data); else the operator's default.",
    )  # fmt: skip

    class Meta:
        ref_name = "ChargingSessionInitiate"


class SessionUpdateSerializer(serializers.Serializer):
    request_id = serializers.RegexField(REQUEST_ID)
    used = serializers.IntegerField(min_value=0, max_value=10**12, help_text="Used since last.")
    requested = serializers.IntegerField(
        min_value=1, max_value=10**12, required=False, allow_null=True, default=None
    )

    class Meta:
        ref_name = "ChargingSessionUpdate"


class SessionTerminateSerializer(serializers.Serializer):
    request_id = serializers.RegexField(REQUEST_ID)
    used = serializers.IntegerField(min_value=0, max_value=10**12)

    class Meta:
        ref_name = "ChargingSessionTerminate"


def _quantity(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class ChargingSessionInitiateApi(APIView):
    """Start a voice or data session: a quota is reserved (units first, then money)."""

    permission_classes = [has_perm(BillingPerm.CHARGE_ONLINE)]
    throttle_classes = NO_THROTTLE

    @extend_schema(
        operation_id="charging_session_initiate",
        summary="Initiate a charging session",
        tags=TAGS,
        request=SessionInitiateSerializer,
        responses={200: SessionAnswerSerializer, **errors(400, 401, 403, 422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        given = SessionInitiateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        answer = session_initiate(
            client=actor_of(request),
            request_id=data["request_id"],
            session_id=data["session_id"],
            msisdn=data["msisdn"],
            service=data["service"],
            destination=data["destination"],
            requested=_quantity(data["requested"]),
        )
        return Response(SessionAnswerSerializer(answer).data)


class ChargingSessionUpdateApi(APIView):
    """Commit what the session used and reserve the next quota."""

    permission_classes = [has_perm(BillingPerm.CHARGE_ONLINE)]
    throttle_classes = NO_THROTTLE

    @extend_schema(
        operation_id="charging_session_update",
        summary="Update a charging session",
        tags=TAGS,
        request=SessionUpdateSerializer,
        responses={200: SessionAnswerSerializer, **errors(400, 401, 403, 422)},
    )
    @idempotent
    def post(self, request: Request, session_id: str) -> Response:
        given = SessionUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        answer = session_update(
            client=actor_of(request),
            request_id=data["request_id"],
            session_id=session_id,
            used=Decimal(data["used"]),
            requested=_quantity(data["requested"]),
        )
        return Response(SessionAnswerSerializer(answer).data)


class ChargingSessionTerminateApi(APIView):
    """Commit the session's last use, release the rest, close it."""

    permission_classes = [has_perm(BillingPerm.CHARGE_ONLINE)]
    throttle_classes = NO_THROTTLE

    @extend_schema(
        operation_id="charging_session_terminate",
        summary="Terminate a charging session",
        tags=TAGS,
        request=SessionTerminateSerializer,
        responses={200: SessionAnswerSerializer, **errors(400, 401, 403, 422)},
    )
    @idempotent
    def post(self, request: Request, session_id: str) -> Response:
        given = SessionTerminateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        answer = session_terminate(
            client=actor_of(request),
            request_id=data["request_id"],
            session_id=session_id,
            used=Decimal(data["used"]),
        )
        return Response(SessionAnswerSerializer(answer).data)
