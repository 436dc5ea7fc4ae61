"""Forms of the console's order pages: they check the shape of input; orders.placing decides.

Choice fields accept any catalog item by its public id, not only the ones the page offers, so
that eligibility (channel, customer kind, payment type, conflicts) is refused by the service
with its own explanation, on the field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from common.errors import ApplicationError
from crm.validators import iccid_clean, msisdn_clean
from orders.inventory.selectors import msisdn_pattern_clean
from orders.models import AddOn, Allowance, Device, Msisdn, Order, PricePlan, Service

NEXT_STANDARD = "next-standard"
REASON_MAX = 200


def service_errors_to_form(
    form: forms.Form, error: ApplicationError, aliases: Mapping[str, str] | None = None
) -> None:
    """Put a service's field errors on the form's fields (`aliases` renames the service's field
    names to the form's); errors about anything else go above the form."""
    aliases = aliases or {}
    for name, messages in error.fields.items():
        target = aliases.get(name, name)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)
    if not error.fields:
        form.add_error(None, error.message)


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
                "hx-on:keydown": "if (event.key === 'Enter') event.preventDefault()",
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


class NewConnectionForm(forms.Form):
    plan = _plan_field()
    msisdn = forms.CharField(
        label="Number",
        max_length=30,
        error_messages={"required": "Choose a number, or the next available standard number."},
    )
    iccid = _iccid_field()
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

    # Service field names that belong to a field of this form under another name.
    SERVICE_FIELDS = {"number": "msisdn", "category": "msisdn", "number_category": "msisdn"}

    def clean_msisdn(self) -> str:
        value: str = self.cleaned_data["msisdn"].strip()
        return value if value == NEXT_STANDARD else msisdn_clean(value)

    def clean_iccid(self) -> str:
        return iccid_clean(self.cleaned_data["iccid"])

    def order_data(self) -> dict[str, Any]:
        """Keyword arguments of orders.placing.order_new_connection_create."""
        data = self.cleaned_data
        next_standard = data["msisdn"] == NEXT_STANDARD
        return {
            "plan": data["plan"],
            "msisdn": None if next_standard else data["msisdn"],
            "number_category": Msisdn.Category.STANDARD if next_standard else None,
            "iccid": data["iccid"],
            "devices": list(data["devices"]),
            "addons": list(data["addons"]),
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


class PlanChangeForm(forms.Form):
    plan = _plan_field()
    effective = forms.ChoiceField(
        choices=Order.Effective.choices,
        initial=Order.Effective.NOW,
        widget=forms.RadioSelect,
        label="When",
        error_messages={"required": "Choose now or the next bill date."},
    )


class AddOnForm(forms.Form):
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


class SimSwapForm(forms.Form):
    iccid = _iccid_field()
    reason = _reason_field(help_text="For example: lost, stolen, damaged, or a move to an eSIM.")

    def clean_iccid(self) -> str:
        return iccid_clean(self.cleaned_data["iccid"])


class ReasonForm(forms.Form):
    """Suspend, resume or terminate a line, or cancel an order: a reason is always kept."""

    reason = _reason_field()
