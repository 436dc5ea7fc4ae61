"""Billing accounts: list, read, open, change the bill cycle day or credit limit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ListApi, actor_of, errors, fields_named, refuse, require_perm, visible
from common.idempotency import idempotent
from common.money import Money
from common.serializers import CurrencyField, MoneySerializer
from crm.api.serializers import AccountFieldsSerializer, SubscriberReferenceSerializer
from crm.filters import AccountFilter
from crm.models import Account
from crm.permissions import CrmPerm
from crm.selectors import account_get_for, account_qs_for, customer_get_for
from crm.services import account_create, account_update

_ACCOUNT_FIELD_NAMES = {"credit_limit_amount": "credit_limit"}


def bill_cycle_day_field() -> serializers.IntegerField:
    message = "The bill cycle day is between 1 and 28."
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=28,
        help_text="1 to 28.",
        error_messages={"min_value": message, "max_value": message},
    )


class AccountDetailOutputSerializer(AccountFieldsSerializer):
    subscribers = serializers.SerializerMethodField()

    class Meta:
        ref_name = "AccountDetail"

    @extend_schema_field(SubscriberReferenceSerializer(many=True))
    def get_subscribers(self, account: Account) -> list[dict[str, Any]]:
        lines = account.subscribers.order_by("created_at", "pk")
        return SubscriberReferenceSerializer(lines, many=True).data  # type: ignore[return-value]


class AccountListCreateApi(ListApi):
    """GET lists the accounts the caller may see, scoped like their customers; newest first.
    POST opens one (needs crm.manage_customer) for a customer the caller may see: a prepaid
    account has no credit limit; the bill cycle day is 1 to 28."""

    filterset_class = AccountFilter

    class OutputSerializer(AccountFieldsSerializer):
        class Meta:
            ref_name = "Account"

    class InputSerializer(serializers.Serializer):
        customer = serializers.UUIDField(help_text="The customer's public_id.")
        payment_type = serializers.ChoiceField(choices=Account.PaymentType.choices)
        currency = CurrencyField(
            required=False, help_text="One of the operator's currencies; its default if left out."
        )
        bill_cycle_day = bill_cycle_day_field()
        credit_limit = MoneySerializer(required=False, help_text="Postpaid only.")

        class Meta:
            ref_name = "AccountCreate"

        def validate(self, data: dict[str, Any]) -> dict[str, Any]:
            limit: Money | None = data.get("credit_limit")
            if limit is not None:
                currency = data.setdefault("currency", limit.currency)
                if currency != limit.currency:
                    refuse({"credit_limit": [f"Give the credit limit in {currency}."]})
            return data

    def get_queryset(self) -> QuerySet[Account]:
        return account_qs_for(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        operation_id="account_list",
        summary="List the billing accounts the caller may see",
        tags=["accounts"],
        responses={200: OutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        return self.paginated(self.get_queryset(), self.OutputSerializer)

    @extend_schema(
        operation_id="account_create",
        summary="Open a billing account for a customer",
        tags=["accounts"],
        request=InputSerializer,
        responses={201: AccountDetailOutputSerializer, **errors(400, 401, 403)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        require_perm(request, CrmPerm.MANAGE_CUSTOMER)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = visible(customer_get_for, request, "customer", data.pop("customer"))
        limit: Money | None = data.pop("credit_limit", None)
        if limit is not None:
            data["credit_limit_amount"] = limit
        with fields_named(_ACCOUNT_FIELD_NAMES):
            account = account_create(customer=customer, actor=actor_of(request), **data)
        return Response(AccountDetailOutputSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetailUpdateApi(APIView):
    """GET reads one account with its lines; PATCH changes its bill cycle day or credit limit
    (needs crm.manage_customer), with an optional reason for the audit log. Someone else's
    account answers 404."""

    OutputSerializer = AccountDetailOutputSerializer

    class InputSerializer(serializers.Serializer):
        bill_cycle_day = bill_cycle_day_field()
        credit_limit = MoneySerializer(required=False, help_text="In the account's currency.")
        reason = serializers.CharField(
            max_length=200,
            required=False,
            allow_blank=True,
            help_text="Why, kept in the audit log with the change.",
        )

        class Meta:
            ref_name = "AccountUpdate"

        def validate_credit_limit(self, limit: Money) -> Money:
            currency = self.context["account"].currency
            if limit.currency != currency:
                refuse({"credit_limit": [f"Give the credit limit in {currency}."]})
            return limit

    @extend_schema(
        operation_id="account_retrieve",
        summary="One billing account",
        tags=["accounts"],
        responses={200: OutputSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        account = account_get_for(request.user, public_id)
        return Response(self.OutputSerializer(account).data)

    @extend_schema(
        operation_id="account_update",
        summary="Change an account's bill cycle day or credit limit",
        tags=["accounts"],
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(400, 401, 403, 404)},
    )
    @idempotent
    def patch(self, request: Request, public_id: UUID) -> Response:
        account = account_get_for(request.user, public_id)
        require_perm(request, CrmPerm.MANAGE_CUSTOMER)
        serializer = self.InputSerializer(data=request.data, context={"account": account})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        limit: Money | None = data.get("credit_limit")
        with fields_named(_ACCOUNT_FIELD_NAMES):
            account = account_update(
                account=account,
                actor=actor_of(request),
                bill_cycle_day=data.get("bill_cycle_day"),
                credit_limit_amount=limit,
                reason=data.get("reason", ""),
            )
        return Response(self.OutputSerializer(account).data)
