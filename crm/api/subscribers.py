"""Subscribers (lines): list, read, connect, and the status changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import has_perm
from crm.api.base import ListApi, actor_of, errors, on_object, visible
from crm.api.serializers import SubscriberFieldsSerializer
from crm.filters import SubscriberFilter
from crm.idempotency import idempotent
from crm.models import Subscriber
from crm.permissions import CrmPerm
from crm.selectors import (
    account_get_for,
    subscriber_get_for,
    subscriber_qs_for,
)
from crm.services import (
    subscriber_activate,
    subscriber_create,
    subscriber_resume,
    subscriber_suspend,
    subscriber_terminate,
)


class SubscriberListApi(ListApi):
    """Scoped like the customers they belong to; newest first. The `msisdn` filter takes a
    number typed any way: `07400 123456` finds +447400123456."""

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


class SubscriberDetailApi(APIView):
    """Someone else's line answers 404."""

    permission_classes = [IsAuthenticated]

    class OutputSerializer(SubscriberFieldsSerializer):
        class Meta:
            ref_name = "SubscriberDetail"

    @extend_schema(
        operation_id="subscriber_retrieve",
        summary="One subscriber (line)",
        tags=["subscribers"],
        responses={200: OutputSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        subscriber = subscriber_get_for(request.user, public_id)
        return Response(self.OutputSerializer(subscriber).data)


class SubscriberCreateApi(APIView):
    """Needs crm.manage_customer (and crm.change_subscriber_status to activate at once). The
    MSISDN must be a mobile number of the operator's country, the ICCID's check digit must be
    right, and neither may belong to another live line. The line starts pending."""

    permission_classes = [has_perm(CrmPerm.MANAGE_CUSTOMER)]

    class InputSerializer(serializers.Serializer):
        account = serializers.UUIDField(help_text="The account's public_id.")
        msisdn = serializers.CharField(max_length=32, help_text="A mobile number, any format.")
        iccid = serializers.CharField(max_length=32, help_text="19 or 20 digits from 89.")
        imsi = serializers.CharField(max_length=32, help_text="15 digits.")
        activate = serializers.BooleanField(
            default=False, help_text="Activate at once (needs crm.change_subscriber_status)."
        )
        reason = serializers.CharField(max_length=200, required=False)

        class Meta:
            ref_name = "SubscriberCreate"

    OutputSerializer = SubscriberDetailApi.OutputSerializer

    @extend_schema(
        operation_id="subscriber_create",
        summary="Connect a line (MSISDN and SIM) to an account",
        tags=["subscribers"],
        request=InputSerializer,
        responses={201: OutputSerializer, **errors(400, 401, 403, 409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data["activate"] and not request.user.has_perm(CrmPerm.CHANGE_SUBSCRIBER_STATUS):
            self.permission_denied(request, "Your role or API key may not activate lines.")
        account = visible(account_get_for, request, "account", data.pop("account"))
        subscriber = subscriber_create(account=account, actor=actor_of(request), **data)
        return Response(self.OutputSerializer(subscriber).data, status=status.HTTP_201_CREATED)


class SubscriberTransitionApi(APIView):
    """A status change, recorded with who, when and why. Activate, suspend and resume need
    crm.change_subscriber_status, terminate needs crm.terminate_subscriber. A change the
    line's status does not allow answers 409 `invalid_transition`; someone else's line 404."""

    service: ClassVar[Callable[..., Subscriber]]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, help_text="Why; kept in the audit trail.")

        class Meta:
            ref_name = "SubscriberStatusChange"

    OutputSerializer = SubscriberDetailApi.OutputSerializer

    def transition(self, request: Request, public_id: UUID) -> Response:
        subscriber = subscriber_get_for(request.user, public_id)
        self.check_object_permissions(request, subscriber)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscriber = type(self).service(
            subscriber=subscriber,
            actor=actor_of(request),
            reason=serializer.validated_data["reason"],
        )
        return Response(self.OutputSerializer(subscriber).data)


def _transition_schema(action: str, summary: str) -> Callable[[Any], Any]:
    return extend_schema(
        operation_id=f"subscriber_{action}",
        summary=summary,
        tags=["subscribers"],
        request=SubscriberTransitionApi.InputSerializer,
        responses={
            200: SubscriberTransitionApi.OutputSerializer,
            **errors(400, 401, 403, 404, 409),
        },
    )


class SubscriberActivateApi(SubscriberTransitionApi):
    permission_classes = [on_object(has_perm(CrmPerm.CHANGE_SUBSCRIBER_STATUS))]
    service = staticmethod(subscriber_activate)

    @_transition_schema("activate", "Activate a pending line")
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        return self.transition(request, public_id)


class SubscriberSuspendApi(SubscriberTransitionApi):
    permission_classes = [on_object(has_perm(CrmPerm.CHANGE_SUBSCRIBER_STATUS))]
    service = staticmethod(subscriber_suspend)

    @_transition_schema("suspend", "Suspend (bar) an active line")
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        return self.transition(request, public_id)


class SubscriberResumeApi(SubscriberTransitionApi):
    permission_classes = [on_object(has_perm(CrmPerm.CHANGE_SUBSCRIBER_STATUS))]
    service = staticmethod(subscriber_resume)

    @_transition_schema("resume", "Resume a suspended line")
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        return self.transition(request, public_id)


class SubscriberTerminateApi(SubscriberTransitionApi):
    permission_classes = [on_object(has_perm(CrmPerm.TERMINATE_SUBSCRIBER))]
    service = staticmethod(subscriber_terminate)

    @_transition_schema("terminate", "Terminate a line; its number and SIM go back to stock")
    @idempotent
    def post(self, request: Request, public_id: UUID) -> Response:
        return self.transition(request, public_id)
