"""The parts of bodies that several operations share: money, addresses, references."""

from __future__ import annotations

from rest_framework import serializers

from common.serializers import CountryField, MoneySerializer
from crm.models import Subscriber


class AddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    postcode = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = CountryField()

    class Meta:
        ref_name = "Address"


class AddressOutputSerializer(AddressSerializer):
    kind = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2.")  # type: ignore[assignment]

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


class PlanReferenceSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    code = serializers.CharField(help_text="Names the plan across its versions.")
    version = serializers.IntegerField()
    name = serializers.CharField()

    class Meta:
        ref_name = "PlanReference"


class SubscriberFieldsSerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    msisdn = serializers.CharField(help_text="E.164, e.g. +447400123456")
    msisdn_display = serializers.CharField()
    iccid = serializers.CharField()
    imsi = serializers.CharField()
    status = serializers.CharField(help_text="pending, active, suspended or terminated")
    status_changed_at = serializers.DateTimeField(allow_null=True)
    allowed_transitions = serializers.SerializerMethodField()
    plan = PlanReferenceSerializer(allow_null=True, help_text="The plan version the line is on.")
    plan_started_on = serializers.DateField(allow_null=True)
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
