"""Forms of the CSR console: they parse and check input; the services in crm.services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from common.errors import ApplicationError
from crm.models import Account, Address, Customer, Interaction, KycDocument
from crm.services import CUSTOMER_EDITABLE, SUBSCRIBER_ACTIONS, AddressData
from crm.validators import iccid_clean, imsi_clean, msisdn_clean

DATE_ERROR = "Enter a real date as YYYY-MM-DD, for example 1990-02-28."


def service_errors_to_form(form: forms.Form, error: ApplicationError) -> None:
    """Put a service's field errors on the form's fields; the rest above the form."""
    for name, messages in error.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
    if not error.fields:
        form.add_error(None, error.message)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _date_field(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": DATE_ERROR},
        **kwargs,
    )


class CustomerDetailsForm(forms.Form):
    """A customer's own details and billing address (what `customer_update` may change)."""

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    date_of_birth = _date_field("Date of birth")
    company_name = forms.CharField(max_length=200, required=False)
    company_number = forms.CharField(
        max_length=40, required=False, label="Company registration number"
    )
    email = forms.EmailField(required=False)
    phone = forms.CharField(
        max_length=30,
        required=False,
        label="Contact phone",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    address_line1 = forms.CharField(max_length=200, required=False, label="Address line 1")
    address_line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    address_city = forms.CharField(max_length=100, required=False, label="Town or city")
    address_postcode = forms.CharField(max_length=20, required=False, label="Postcode")
    address_country = forms.CharField(
        max_length=2,
        required=False,
        label="Country",
        initial=settings.OPERATOR_COUNTRY,
        help_text="Two-letter code, e.g. GB",
    )

    ADDRESS_FIELDS = ("line1", "line2", "city", "postcode", "country")

    def customer_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CUSTOMER_EDITABLE if name in self.fields}

    def address_data(self) -> AddressData | None:
        """The billing address typed in, or None when every address field was left empty."""
        values = {name: self.cleaned_data[f"address_{name}"] for name in self.ADDRESS_FIELDS}
        if not any(values[name] for name in ("line1", "line2", "city", "postcode")):
            return None
        return AddressData(kind=Address.Kind.BILLING, **values)


class CustomerEditForm(CustomerDetailsForm):
    """Details of an existing customer; a business has no date of birth, a person no company."""

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unused = (
            ("date_of_birth",)
            if kind == Customer.Kind.BUSINESS
            else ("company_name", "company_number")
        )
        for name in unused:
            del self.fields[name]

    @classmethod
    def initial_for(cls, customer: Customer) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(customer, name) for name in CUSTOMER_EDITABLE}
        address = next(
            (a for a in customer.addresses.all() if a.kind == Address.Kind.BILLING), None
        )
        for name in cls.ADDRESS_FIELDS:
            key = f"address_{name}"
            initial[key] = getattr(address, name) if address else ""
        if not address:
            initial["address_country"] = settings.OPERATOR_COUNTRY
        return initial

    def address_changes(self, customer: Customer) -> AddressData | None:
        """The new billing address, or None when it is unchanged (so no change is recorded)."""
        address = self.address_data()
        if address is None:
            return None
        current = next(
            (a for a in customer.addresses.all() if a.kind == Address.Kind.BILLING), None
        )
        if current is not None:
            same = all(
                (getattr(address, name) or "").strip().upper()
                == (getattr(current, name) or "").strip().upper()
                for name in self.ADDRESS_FIELDS
            )
            if same:
                return None
        return address


class AccountForm(forms.Form):
    payment_type = forms.ChoiceField(
        choices=Account.PaymentType.choices,
        initial=Account.PaymentType.PREPAID,
        widget=forms.RadioSelect,
        label="Payment",
    )
    currency = forms.ChoiceField(
        choices=[(code, code) for code in settings.CURRENCIES],
        initial=settings.DEFAULT_CURRENCY,
    )
    bill_cycle_day = forms.IntegerField(
        min_value=1,
        max_value=28,
        initial=1,
        label="Bill cycle day",
        help_text="Day of the month the bill is made, 1 to 28",
    )
    credit_limit_amount = forms.DecimalField(
        max_digits=18,
        decimal_places=settings.MONEY_DECIMAL_PLACES,
        min_value=Decimal("0"),
        required=False,
        initial=Decimal("0"),
        label="Credit limit",
        help_text="Postpaid only; leave 0 for prepaid",
    )

    def account_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "payment_type": data["payment_type"],
            "currency": data["currency"],
            "bill_cycle_day": data["bill_cycle_day"],
            "credit_limit_amount": data["credit_limit_amount"] or Decimal("0"),
        }


class LineForm(forms.Form):
    msisdn = forms.CharField(
        max_length=30,
        label="Mobile number (MSISDN)",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text="Any format: 07400 123456, +44 7400 123456",
    )
    iccid = forms.CharField(
        max_length=30,
        label="SIM number (ICCID)",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="19 or 20 digits printed on the SIM card, starting 89",
    )
    imsi = forms.CharField(
        max_length=20,
        label="IMSI",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    activate = forms.BooleanField(required=False, initial=True, label="Activate the line now")

    # The identifiers' shape is checked here too, so every mistake shows on the first submit;
    # whether the number and SIM are free is for the service to decide.
    def clean_msisdn(self) -> str:
        return msisdn_clean(self.cleaned_data["msisdn"])

    def clean_iccid(self) -> str:
        return iccid_clean(self.cleaned_data["iccid"])

    def clean_imsi(self) -> str:
        return imsi_clean(self.cleaned_data["imsi"])

    def line_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "msisdn": data["msisdn"],
            "iccid": data["iccid"],
            "imsi": data["imsi"],
            "activate": data["activate"],
        }


class CustomerCreateForm(CustomerDetailsForm, AccountForm, LineForm):
    """New customer, its first billing account and its first line, in one submit."""

    kind = forms.ChoiceField(
        choices=Customer.Kind.choices,
        initial=Customer.Kind.INDIVIDUAL,
        widget=forms.RadioSelect,
        label="Customer is",
    )

    field_order = ("kind", *CustomerDetailsForm.base_fields, *AccountForm.base_fields)

    def clean(self) -> dict[str, Any]:
        # Ask for the name that this kind of customer needs now, beside the other missing
        # fields, rather than only after they are filled in (the service checks it again).
        data = super().clean() or {}
        needed = (
            {"company_name": "A business needs its registered company name."}
            if data.get("kind") == Customer.Kind.BUSINESS
            else {
                "first_name": "An individual needs a first name.",
                "last_name": "An individual needs a last name.",
            }
        )
        for name, message in needed.items():
            if name not in self.errors and not (data.get(name) or "").strip():
                self.add_error(name, message)
        return data

    def onboard_data(self) -> dict[str, Any]:
        kind = self.cleaned_data["kind"]
        customer = {"kind": kind, **self.customer_data()}
        # Fields of the other kind are hidden on the page; ignore whatever they still hold.
        if kind == Customer.Kind.BUSINESS:
            customer["date_of_birth"] = None
        else:
            customer["company_name"] = customer["company_number"] = ""
        if (address := self.address_data()) is not None:
            customer["address"] = address
        return {
            "customer": customer,
            "account": self.account_data(),
            "subscriber": self.line_data(),
        }


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(choices=Interaction.Kind.choices, initial=Interaction.Kind.NOTE)
    direction = forms.ChoiceField(
        choices=Interaction.Direction.choices, initial=Interaction.Direction.INTERNAL
    )
    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write something in the note."},
    )


class SubscriberStatusForm(forms.Form):
    action = forms.ChoiceField(choices=[(name, name.title()) for name in SUBSCRIBER_ACTIONS])
    reason = forms.CharField(
        max_length=200,
        error_messages={"required": "Give a reason for the change."},
    )


class KycDocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=KycDocument.Kind.choices, label="Document")
    document_number = forms.CharField(max_length=60, required=False, label="Document number")
    expires_on = _date_field("Expires on")
    file = forms.FileField(required=False, label="Copy (PDF, JPEG or PNG)")


class KycReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    note = forms.CharField(max_length=200, required=False)
