"""Forms of the console's order pages: they check the shape of input; orders.placing decides.

Choice fields accept any catalog item by its public id, not only the ones the page offers, so
that eligibility (channel, customer kind, payment type, conflicts) is refused by the service
with its own explanation, on the field at fault.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from common.forms import date_field
from crm.validators import iccid_clean, msisdn_clean
from orders.catalog.models import AddOn, Allowance, Device, PricePlan, Service
from orders.inventory.models import Msisdn
from orders.inventory.selectors import msisdn_pattern_clean
from orders.models import Order
from orders.placing import PortIn

NEXT_STANDARD = "next-standard"
PORT_IN = "port-in"
REASON_MAX = 200


def allowance_text(allowance: Allowance) -> str:
    """“10 GB data”, “500 minutes on-net”, “1 GB data in EU” — as a customer reads it."""
    quantity = allowance.quantity
    if allowance.service == Service.DATA:
        if quantity >= 1024 and quantity % 1024 == 0:
            text = f"{(quantity / 1024).normalize():f} GB data"
        else:
            text = f"{quantity.normalize():f} MB data"
    elif allowance.service == Service.VOICE:
        text = f"{quantity.normalize():f} minutes"
    else:
        text = f"{quantity.normalize():f} SMS"
    if allowance.scope == Allowance.Scope.ON_NET:
        return f"{text} on-net"
    if allowance.scope == Allowance.Scope.OFF_NET:
        return f"{text} off-net"
    if allowance.scope == Allowance.Scope.ZONE and allowance.zone:
        return f"{text} in {allowance.zone}"
    return text


class PublicIdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A catalog item chosen by its public id; anything that is not one is an unknown choice
    (not a UUID error from the database field)."""

    def __init__(self, queryset: Any, **kwargs: Any) -> None:
        super().__init__(queryset, to_field_name="public_id", **kwargs)

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_choice":
                raise
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from exc


class PublicIdMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def __init__(self, queryset: Any, **kwargs: Any) -> None:
        super().__init__(queryset, to_field_name="public_id", **kwargs)

    def clean(self, value: Any) -> Any:
        try:
            return super().clean(value)
        except ValidationError as exc:
            if getattr(exc, "code", None) in ("required", "invalid_choice", "invalid_list"):
                raise
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from exc


def _reason_field(label: str = "Reason", help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=REASON_MAX,
        help_text=help_text,
        error_messages={"required": "Give a reason."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _iccid_field() -> forms.CharField:
    return forms.CharField(
        label="SIM number (ICCID)",
        max_length=40,
        help_text="Type or scan the 19 or 20 digits printed on the SIM card, starting 89.",
        error_messages={"required": "Type or scan the SIM's ICCID."},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "spellcheck": "false",
                # A barcode scanner ends with Enter: keep it from submitting a half-filled form.
                "data-ignore-enter": True,  # static/js/forms.js
            }
        ),
    )


def _plan_field() -> PublicIdChoiceField:
    return PublicIdChoiceField(
        PricePlan.objects.exclude(status=PricePlan.Status.DRAFT),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a plan.",
            "invalid_choice": "That plan is not in the catalog.",
        },
    )


class QuoteTokenForm(forms.Form):
    """A quote form carries a token made when it was shown: sending it twice (a double click,
    the browser's back button) gives back the draft the first send made."""

    quote_token = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("quote_token", uuid.uuid4())

    def token(self) -> uuid.UUID | None:
        return self.cleaned_data.get("quote_token")


def _donor_choices() -> list[tuple[str, str]]:
    return [
        ("", "Choose the operator"),
        *((name, name) for name in settings.PORT_IN_DONOR_OPERATORS),
    ]


class LineStartForm(forms.Form):
    """What a new line starts with: a plan, a number (from the pool, or ported in from another
    operator on a date) and a SIM from stock."""

    plan = _plan_field()
    msisdn = forms.CharField(
        label="Number",
        max_length=30,
        error_messages={"required": "Choose a number, the next standard number, or a port-in."},
    )
    port_msisdn = forms.CharField(
        label="Number to port in",
        max_length=30,
        required=False,
        help_text="The customer's number with their current operator.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    donor_operator = forms.ChoiceField(
        label="Current operator", required=False, choices=_donor_choices
    )
    port_date = date_field("Port date", help_text="The day the number moves over.")
    iccid = _iccid_field()

    # Service field names that belong to a field of this form under another name.
    SERVICE_FIELDS = {"number": "msisdn", "category": "msisdn", "number_category": "msisdn"}

    def clean_msisdn(self) -> str:
        value: str = self.cleaned_data["msisdn"].strip()
        return value if value in (NEXT_STANDARD, PORT_IN) else msisdn_clean(value)

    def clean_iccid(self) -> str:
        return iccid_clean(self.cleaned_data["iccid"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("msisdn") == PORT_IN:
            required = {
                "port_msisdn": "Type the number the customer brings.",
                "donor_operator": "Choose the operator the number comes from.",
                "port_date": "Choose the day the number moves over.",
            }
            for name, message in required.items():
                if name not in self.errors and not data.get(name):
                    self.add_error(name, message)
        return data

    def connection_data(self) -> dict[str, Any]:
        """Keyword arguments of orders.placing.order_new_connection_create for the line."""
        data = self.cleaned_data
        choice = data["msisdn"]
        port_in = None
        if choice == PORT_IN:
            port_in = PortIn(
                msisdn=data["port_msisdn"],
                donor_operator=data["donor_operator"],
                port_date=data["port_date"],
            )
        return {
            "plan": data["plan"],
            "msisdn": None if choice in (NEXT_STANDARD, PORT_IN) else choice,
            "number_category": Msisdn.Category.STANDARD if choice == NEXT_STANDARD else None,
            "port_in": port_in,
            "iccid": data["iccid"],
        }


class NewConnectionForm(LineStartForm, QuoteTokenForm):
    devices = PublicIdMultipleChoiceField(
        Device.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "That device is not in the catalog."},
    )
    addons = PublicIdMultipleChoiceField(
        AddOn.objects.all(),
        required=False,
        label="Add-ons",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "That add-on is not in the catalog."},
    )

    def order_data(self) -> dict[str, Any]:
        """Keyword arguments of orders.placing.order_new_connection_create."""
        return {
            **self.connection_data(),
            "devices": list(self.cleaned_data["devices"]),
            "addons": list(self.cleaned_data["addons"]),
            "quote_token": self.token(),
        }


class NumberFilterForm(forms.Form):
    """The number picker's filter: a category and digits the number contains or begins with."""

    category = forms.ChoiceField(
        choices=[("", "Any category"), *Msisdn.Category.choices],
        required=False,
        label="Category",
    )
    pattern = forms.CharField(
        max_length=20,
        required=False,
        label="Number contains",
        help_text="Digits it contains (777), or how it begins (07500 or +447500).",
        widget=forms.TextInput(attrs={"type": "search", "inputmode": "tel", "autocomplete": "off"}),
    )

    def clean_pattern(self) -> str:
        try:
            return msisdn_pattern_clean(self.cleaned_data["pattern"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class PlanChangeForm(QuoteTokenForm):
    plan = _plan_field()
    effective = forms.ChoiceField(
        choices=Order.Effective.choices,
        initial=Order.Effective.NOW,
        widget=forms.RadioSelect,
        label="When",
        error_messages={"required": "Choose now or the end of the current period."},
    )


class AddOnForm(QuoteTokenForm):
    addon = PublicIdChoiceField(
        AddOn.objects.all(),
        widget=forms.RadioSelect,
        label="Add-on",
        error_messages={
            "required": "Choose an add-on.",
            "invalid_choice": "That add-on is not in the catalog.",
        },
    )

    SERVICE_FIELDS = {"addons": "addon"}


class SimSwapForm(QuoteTokenForm):
    iccid = _iccid_field()
    reason = _reason_field(help_text="For example: lost, stolen, damaged, or a move to an eSIM.")

    def clean_iccid(self) -> str:
        return iccid_clean(self.cleaned_data["iccid"])


class ReasonForm(forms.Form):
    """Cancel an order: a reason is always kept."""

    reason = _reason_field()


class ServiceChangeForm(QuoteTokenForm):
    """Activate, suspend, resume or terminate a line: a reason is always kept."""

    reason = _reason_field()
