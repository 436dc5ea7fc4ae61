"""Query-string filters of the CRM API lists (django-filter).

They narrow a queryset that a selector has already scoped to the caller; they never widen it.
Identifiers are accepted the way people type them: `07400 123456` finds `+447400123456`.
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field

from common.filters import RULE, UtcIsoDateTimeFilter
from common.schema import RULE_CHECKED
from crm.models import Account, Customer, Subscriber
from crm.selectors import customer_qs_name_prefix
from crm.validators import msisdn_clean

_NOT_DIGITS = re.compile(r"\D")


# How people write a mobile number: digits, an optional leading +, spaces, dots, dashes and
# brackets. The schema publishes it; a value of that shape that is still not a valid mobile
# number of the operator's country is refused by the same rule as a write (422).
MSISDN_QUERY_PATTERN = r"^\+?[0-9][0-9 ().-]{0,31}$"


class MsisdnFormField(forms.CharField):
    """A mobile number of the operator's country in any human format, cleaned to E.164 exactly
    as a write checks it (or refused, naming the field)."""

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not text:
            return text
        if not re.fullmatch(MSISDN_QUERY_PATTERN, text, re.ASCII):
            raise forms.ValidationError(
                "Write the number with digits, an optional leading +, spaces, dots, dashes or "
                "brackets.",
                code="invalid",
            )
        try:
            return msisdn_clean(text)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages[0], code=RULE) from None


@extend_schema_field(
    {
        "type": "string",
        "pattern": MSISDN_QUERY_PATTERN,
        RULE_CHECKED: "A valid mobile number of the operator's country; 422 otherwise.",
    }
)
class MsisdnFilter(django_filters.CharFilter):
    field_class = MsisdnFormField


class DigitsFilter(django_filters.CharFilter):
    """ICCID and IMSI are stored as bare digits; spaces and dashes typed around them are dropped."""

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        return super().filter(qs, _NOT_DIGITS.sub("", value) if value else value)


class CustomerFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Customer.Kind.choices)
    kyc_status = django_filters.ChoiceFilter(choices=Customer.KycStatus.choices)
    email = django_filters.CharFilter(method="filter_email", help_text="Exact, any case.")
    number = django_filters.CharFilter(method="filter_number", help_text="e.g. CUS-00000042")
    q = django_filters.CharFilter(
        method="filter_name", help_text="Name prefix: `smi` finds Smith, `ada lov` Ada Lovelace."
    )
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="ISO 8601; inclusive."
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="ISO 8601; exclusive."
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_email(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        return queryset.filter(email=value.strip().lower())

    def filter_number(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        return queryset.filter(number=value.strip().upper())

    def filter_name(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        # The console search's name matching, so the API and the console find the same people.
        text = " ".join(value.split())
        return customer_qs_name_prefix(queryset, text) if text else queryset


class AccountFilter(django_filters.FilterSet):
    customer = django_filters.UUIDFilter(
        field_name="customer__public_id", help_text="The customer's public_id."
    )
    payment_type = django_filters.ChoiceFilter(choices=Account.PaymentType.choices)
    status = django_filters.ChoiceFilter(choices=Account.Status.choices)
    currency = django_filters.CharFilter(method="filter_currency", help_text="ISO 4217, e.g. GBP")
    number = django_filters.CharFilter(method="filter_number", help_text="e.g. ACC-00000042")

    class Meta:
        model = Account
        fields: list[str] = []

    def filter_currency(
        self, queryset: QuerySet[Account], name: str, value: str
    ) -> QuerySet[Account]:
        return queryset.filter(currency=value.strip().upper())

    def filter_number(
        self, queryset: QuerySet[Account], name: str, value: str
    ) -> QuerySet[Account]:
        return queryset.filter(number=value.strip().upper())


class SubscriberFilter(django_filters.FilterSet):
    account = django_filters.UUIDFilter(
        field_name="account__public_id", help_text="The account's public_id."
    )
    status = django_filters.ChoiceFilter(choices=Subscriber.Status.choices)
    msisdn = MsisdnFilter(
        help_text="Any format: `07400 123456`, `+44 7400 123456`, `447400123456`."
    )
    iccid = DigitsFilter(help_text="The SIM's ICCID.")
    imsi = DigitsFilter(help_text="The SIM's IMSI.")

    class Meta:
        model = Subscriber
        fields: list[str] = []
