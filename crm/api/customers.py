"""Customers: list, read, register, change."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ListApi, actor_of, errors, fields_named, require_perm
from common.idempotency import idempotent
from crm.api.serializers import (
    AccountReferenceSerializer,
    AddressOutputSerializer,
    AddressSerializer,
    CustomerFieldsSerializer,
)
from crm.filters import CustomerFilter
from crm.models import Customer
from crm.permissions import CrmPerm
from crm.selectors import (
    customer_detail_for,
    customer_get_for,
    customer_qs_for,
)
from crm.services import (
    AddressData,
    customer_create,
    customer_update,
)
from partners.selectors import partner_of

_ADDRESS_FIELD_NAMES = {
    f"address_{name}": f"billing_address.{name}"
    for name in ("line1", "line2", "city", "postcode", "country")
}


class CustomerDetailOutputSerializer(CustomerFieldsSerializer):
    addresses = AddressOutputSerializer(many=True)
    accounts = AccountReferenceSerializer(many=True)

    class Meta:
        ref_name = "CustomerDetail"


class CustomerDetailUpdateApi(APIView):
    """GET reads one customer with its addresses and accounts; PATCH changes the fields sent
    (needs crm.manage_customer) and writes the change to the customer's timeline. Someone
    else's customer answers 404."""

    OutputSerializer = CustomerDetailOutputSerializer

    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        company_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
        date_of_birth = serializers.DateField(required=False, allow_null=True)
        email = serializers.EmailField(required=False, allow_blank=True)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
        billing_address = AddressSerializer(required=False, help_text="Replaces the old one.")

        class Meta:
            ref_name = "CustomerUpdate"

    @extend_schema(
        operation_id="customer_retrieve",
        summary="One customer with its addresses and accounts",
        tags=["customers"],
        responses={200: OutputSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        customer = customer_detail_for(request.user, public_id)
        return Response(self.OutputSerializer(customer).data)

    @extend_schema(
        operation_id="customer_update",
        summary="Change a customer's details (only the fields sent)",
        tags=["customers"],
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(400, 401, 403, 404)},
    )
    @idempotent
    def patch(self, request: Request, public_id: UUID) -> Response:
        customer = customer_get_for(request.user, public_id)
        require_perm(request, CrmPerm.MANAGE_CUSTOMER)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        address = changes.pop("billing_address", None)
        with fields_named(_ADDRESS_FIELD_NAMES):
            customer_update(
                customer=customer,
                actor=actor_of(request),
                address=AddressData(**address) if address else None,
                **changes,
            )
        customer = customer_detail_for(request.user, public_id)
        return Response(self.OutputSerializer(customer).data)


class CustomerListCreateApi(ListApi):
    """GET lists the customers the caller may see: staff and keys holding
    crm.view_any_customer see every customer, a reseller the customers of its partner subtree, a
    subscriber their own; newest first. POST registers one (needs crm.manage_customer): an
    individual needs first and last names, a business its company name; KYC starts as pending."""

    filterset_class = CustomerFilter

    class OutputSerializer(CustomerFieldsSerializer):
        class Meta:
            ref_name = "Customer"

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Customer.Kind.choices)
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        company_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
        date_of_birth = serializers.DateField(required=False, allow_null=True)
        email = serializers.EmailField(required=False, allow_blank=True)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
        billing_address = AddressSerializer(required=False)

        class Meta:
            ref_name = "CustomerCreate"

    def get_queryset(self) -> QuerySet[Customer]:
        return (
            customer_qs_for(self.request.user)
            .select_related("partner")
            .order_by("-created_at", "-pk")
        )

    @extend_schema(
        operation_id="customer_list",
        summary="List the customers the caller may see",
        tags=["customers"],
        responses={200: OutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        return self.paginated(self.get_queryset(), self.OutputSerializer)

    @extend_schema(
        operation_id="customer_create",
        summary="Register a customer, optionally with a billing address",
        tags=["customers"],
        request=InputSerializer,
        responses={201: CustomerDetailOutputSerializer, **errors(400, 401, 403)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        require_perm(request, CrmPerm.MANAGE_CUSTOMER)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        address = data.pop("billing_address", None)
        with fields_named(_ADDRESS_FIELD_NAMES):
            customer = customer_create(
                actor=actor_of(request),
                partner=partner_of(request.user),
                address=AddressData(**address) if address else None,
                **data,
            )
        return Response(
            CustomerDetailOutputSerializer(customer).data, status=status.HTTP_201_CREATED
        )
