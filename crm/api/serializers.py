"""The parts of bodies that several operations share: money, addresses, references."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.money import Money
from crm.models import Subscriber


class MoneySerializer(serializers.Serializer):
    """Money as strings beside its ISO 4217 currency: {"amount": "100.0000", "currency": "GBP"}."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", help_text="ISO 4217, e.g. GBP")

    class Meta:
        ref_name = "Money"

    def to_representation(self, instance: Money) -> dict[str, str]:
        return instance.as_json()

    def to_internal_value(self, data: Any) -> Money:
        values = super().to_internal_value(data)
        return Money(values["amount"], values["currency"].upper())


@extend_schema_field(MoneySerializer)
class AmountField(serializers.Field):
    """A row's `<name>_amount` beside its `currency` (or the currency of the related object
    named by `currency_from`), rendered as Money strings."""

    def __init__(self, amount: str, *, currency_from: str = "", **kwargs: Any) -> None:
        kwargs["source"] = "*"
        super().__init__(**kwargs)
        self.amount = amount
        self.currency_from = currency_from

    def to_representation(self, value: Any) -> dict[str, str]:
        owner = getattr(value, self.currency_from) if self.currency_from else value
        return Money(getattr(value, self.amount), owner.currency).as_json()


class AddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    postcode = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(
        max_length=8, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2, e.g. GB"
    )

    class Meta:
        ref_name = "Address"


class AddressOutputSerializer(AddressSerializer):
    kind = serializers.CharField()

    class Meta:
        ref_name = "CustomerAddress"


class PartnerReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()

    class Meta:
        ref_name = "PartnerReference"


class CustomerReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    number = serializers.CharField()
    display_name = serializers.CharField()

    class Meta:
        ref_name = "CustomerReference"


class AccountReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    number = serializers.CharField()
    payment_type = serializers.CharField()
    status = serializers.CharField()

    class Meta:
        ref_name = "AccountReference"


class SubscriberReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    msisdn = serializers.CharField(help_text="E.164")
    status = serializers.CharField()

    class Meta:
        ref_name = "SubscriberReference"


class CustomerFieldsSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    number = serializers.CharField()
    kind = serializers.CharField()
    display_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    company_name = serializers.CharField()
    company_number = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    email = serializers.CharField()
    phone = serializers.CharField(help_text="E.164")
    kyc_status = serializers.CharField(help_text="pending, verified or rejected")
    partner = PartnerReferenceSerializer(allow_null=True, help_text="The reseller who sold it.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SubscriberFieldsSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    msisdn = serializers.CharField(help_text="E.164, e.g. +447400123456")
    msisdn_display = serializers.CharField()
    iccid = serializers.CharField()
    imsi = serializers.CharField()
    status = serializers.CharField(help_text="pending, active, suspended or terminated")
    status_changed_at = serializers.DateTimeField(allow_null=True)
    allowed_transitions = serializers.SerializerMethodField()
    account = AccountReferenceSerializer()
    customer = CustomerReferenceSerializer(source="account.customer")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_allowed_transitions(self, subscriber: Subscriber) -> list[str]:
        return sorted(subscriber.allowed_transitions())


class AccountFieldsSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    number = serializers.CharField()
    customer = CustomerReferenceSerializer()
    payment_type = serializers.CharField()
    currency = serializers.CharField()
    bill_cycle_day = serializers.IntegerField()
    credit_limit = MoneySerializer()
    status = serializers.CharField(help_text="active, suspended or closed")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
