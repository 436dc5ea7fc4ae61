"""Forms of the CSR console: they parse and check input; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django_countries import countries

from common.forms import date_field
from crm.models import Account, Address, Customer, Interaction, KycDocument
from crm.services import CUSTOMER_EDITABLE, AddressData
from orders.forms import LineStartForm, QuoteTokenForm


class CustomerDetailsForm(forms.Form):
    """A customer's own details and billing address (what `customer_update` may change)."""

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    date_of_birth = date_field("Date of birth")
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
    address_country = forms.ChoiceField(
        choices=[("", "—"), *countries],
        required=False,
        label="Country",
        initial=settings.OPERATOR_COUNTRY,
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


class CustomerCreateForm(CustomerDetailsForm, AccountForm, LineStartForm, QuoteTokenForm):
    """New customer, its first billing account and its first line (quoted as a new-connection
    order), in one submit."""

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
            "connection": self.connection_data(),
            "quote_token": self.token(),
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
    """Activate, suspend or resume a line from its row (terminating goes through the terminate
    order page, which shows the credit first)."""

    action = forms.ChoiceField(
        choices=[("activate", "Activate"), ("suspend", "Suspend"), ("resume", "Resume")]
    )
    reason = forms.CharField(
        max_length=200,
        error_messages={"required": "Give a reason for the change."},
    )


class KycDocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=KycDocument.Kind.choices, label="Document")
    document_number = forms.CharField(
        max_length=60,
        required=False,
        label="Document number",
        help_text="Letters, digits, spaces and hyphens.",
    )
    expires_on = date_field("Expires on")
    file = forms.FileField(
        required=False,
        label="Copy (PDF, JPEG or PNG)",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = filesizeformat(settings.KYC_DOCUMENT_MAX_BYTES)
        self.fields["file"].help_text = f"A scan or photo, at most {limit}."


class KycReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    note = forms.CharField(max_length=200, required=False)
