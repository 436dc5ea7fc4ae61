"""Back-office forms of the catalog: they parse the input; orders.catalog.services decides."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from billing.rating.selectors import tariff_list
from common.errors import ApplicationError
from common.forms import date_field
from crm.models import Customer
from orders.catalog.models import AddOn, Allowance, Channel, Device, PricePlan, Service
from orders.catalog.selectors import plan_codes
from orders.catalog.services import AllowanceData, TierData


def _currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in settings.CURRENCIES]


def _decimal_initial(value: Any) -> Any:
    """12.0000 shows as 12.00 and 0.0500 as 0.05, never hiding a significant digit."""
    if not isinstance(value, Decimal):
        return value
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value.normalize()


def _initial(source: Any, names: Any) -> dict[str, Any]:
    return {name: _decimal_initial(getattr(source, name)) for name in names}


def _plan_code_choices() -> list[tuple[str, str]]:
    return [(code, f"{name} ({code})") for code, name in plan_codes()]


def _amount_field(label: str, *, required: bool = True, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        max_digits=18,
        decimal_places=settings.MONEY_DECIMAL_PLACES,
        **kwargs,
    )


def _quantity_field(label: str, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        max_digits=14,
        decimal_places=2,
    )


def _checkboxes(label: str, help_text: str, **kwargs: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
        **kwargs,
    )


# --- plans --------------------------------------------------------------------------------------


class PlanForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    payment_type = forms.ChoiceField(choices=PricePlan.PaymentType.choices)
    currency = forms.ChoiceField(choices=_currency_choices)
    recurring_fee_amount = _amount_field(
        "Recurring fee",
        help_text="Per period, before tax. Enter 0 for a plan with no fee.",
        error_messages={"required": "A plan needs a price: give its recurring fee (0 for no fee)."},
    )
    recurring_period = forms.ChoiceField(choices=PricePlan.Period.choices, label="Billed")
    activation_fee_amount = _amount_field(
        "Activation fee", required=False, help_text="Charged once on connection; empty: none."
    )
    proration = forms.ChoiceField(choices=PricePlan.Proration.choices)
    tariff = forms.ModelChoiceField(
        queryset=tariff_list(),
        to_field_name="code",
        required=False,
        empty_label="None (usage beyond the allowances is refused)",
        help_text="The tariff that rates usage beyond the allowances and tiers.",
    )
    eligible_customer_kinds = _checkboxes(
        "Customer kinds", "None ticked: every kind.", choices=Customer.Kind.choices
    )
    eligible_channels = _checkboxes(
        "Sales channels", "None ticked: every channel.", choices=Channel.choices
    )
    valid_from = date_field("On sale from", help_text="Empty: from publication.")
    valid_to = date_field("On sale until", help_text="Empty: until retired.")

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("activation_fee_amount") is None:
            data["activation_fee_amount"] = Decimal("0")
        return data

    @classmethod
    def initial_from(cls, plan: PricePlan) -> dict[str, Any]:
        return _initial(plan, cls.base_fields)


class PlanCreateForm(PlanForm):
    code = forms.CharField(
        max_length=40,
        help_text="Names the plan across its versions; lower-case, e.g. sim-only-30gb.",
    )

    field_order = ["code", "name"]


class AllowanceForm(forms.Form):
    service = forms.ChoiceField(choices=[("", "—"), *Service.choices])
    quantity = _quantity_field("Quantity")
    scope = forms.ChoiceField(choices=Allowance.Scope.choices, initial=Allowance.Scope.ALL)
    zone = forms.CharField(max_length=40, required=False, help_text="Only for the zone scope.")

    def data_row(self) -> AllowanceData:
        d = self.cleaned_data
        return AllowanceData(
            service=d["service"], quantity=d["quantity"], scope=d["scope"], zone=d["zone"]
        )


class TierForm(forms.Form):
    service = forms.ChoiceField(choices=[("", "—"), *Service.choices])
    from_quantity = _quantity_field("From")
    to_quantity = _quantity_field("To", required=False)
    unit_price_amount = _amount_field("Unit price")

    def data_row(self) -> TierData:
        d = self.cleaned_data
        return TierData(
            service=d["service"],
            from_quantity=d["from_quantity"],
            to_quantity=d["to_quantity"],
            unit_price_amount=d["unit_price_amount"],
        )


AllowanceFormSet = forms.formset_factory(AllowanceForm, extra=2, can_delete=True, max_num=30)
TierFormSet = forms.formset_factory(TierForm, extra=2, can_delete=True, max_num=30)


def formset_rows(formset: forms.BaseFormSet[Any]) -> tuple[list[Any], list[int]]:
    """The rows a valid formset carries (blank extra rows and deleted rows left out), and the
    index of the form each row came from."""
    rows, indexes = [], []
    for index, form in enumerate(formset.forms):
        if not form.cleaned_data or form.cleaned_data.get("DELETE"):
            continue
        rows.append(form.data_row())  # type: ignore[attr-defined]
        indexes.append(index)
    return rows, indexes


def service_errors_to_formset(
    formset: forms.BaseFormSet[Any], indexes: list[int], prefix: str, error: ApplicationError
) -> list[str]:
    """Put `<prefix>.<row>.<field>` errors on the row's form; return the rest, to show above."""
    general: list[str] = []
    for name, messages in error.fields.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit():
            form = formset.forms[indexes[int(parts[1])]]
            target = parts[2] if parts[2] in form.fields else None
            for message in messages:
                if message not in form.errors.get(target or "__all__", []):
                    form.add_error(target, message)
        else:
            general.extend(m for m in messages if m not in general)
    if not error.fields:
        general.append(error.message)
    return general


def allowance_initial(allowances: Any) -> list[dict[str, Any]]:
    return [
        {
            "service": a.service,
            "quantity": _decimal_initial(a.quantity),
            "scope": a.scope,
            "zone": a.zone,
        }
        for a in allowances
    ]


def tier_initial(tiers: Any) -> list[dict[str, Any]]:
    return [
        {
            "service": t.service,
            "from_quantity": _decimal_initial(t.from_quantity),
            "to_quantity": _decimal_initial(t.to_quantity),
            "unit_price_amount": _decimal_initial(t.unit_price_amount),
        }
        for t in tiers
    ]


# --- add-ons ------------------------------------------------------------------------------------


class AddOnForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=AddOn.Kind.choices)
    price_amount = _amount_field("Price", error_messages={"required": "An add-on needs a price."})
    currency = forms.ChoiceField(choices=_currency_choices)
    validity_days = forms.IntegerField(
        label="Valid for (days)",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    stackable = forms.BooleanField(
        required=False, help_text="A line may hold several of it at once."
    )
    zone = forms.CharField(
        max_length=40, required=False, help_text="Roaming packs only: a zone or country, e.g. EU."
    )
    plan_codes = _checkboxes("Sold on plans", "None ticked: on every plan.")
    conflicts_with = _checkboxes(
        "Conflicts with", "A line holding one of these cannot buy this one, and the other way."
    )

    def __init__(self, *args: Any, addon: AddOn | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan_codes"].choices = _plan_code_choices()  # type: ignore[attr-defined]
        others = AddOn.objects.order_by("name")
        if addon is not None:
            others = others.exclude(pk=addon.pk)
        self.fields["conflicts_with"].choices = [  # type: ignore[attr-defined]
            (other.code, f"{other.name} ({other.code})") for other in others
        ]

    @classmethod
    def initial_from(cls, addon: AddOn) -> dict[str, Any]:
        initial = _initial(addon, [name for name in cls.base_fields if name != "conflicts_with"])
        initial["conflicts_with"] = [a.code for a in addon.conflicts_with.all()]
        return initial


class AddOnCreateForm(AddOnForm):
    code = forms.CharField(max_length=40, help_text="Lower-case, e.g. eu-roam-5gb.")

    field_order = ["code", "name"]


# --- devices ------------------------------------------------------------------------------------


class DeviceForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Device.Kind.choices)
    price_amount = _amount_field(
        "Price", error_messages={"required": "A device needs a price (0 if only given away)."}
    )
    currency = forms.ChoiceField(choices=_currency_choices)
    included_with_plan_codes = _checkboxes(
        "Included with plans", "Lines on these plans get it at no charge."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["included_with_plan_codes"]
        field.choices = _plan_code_choices()  # type: ignore[attr-defined]

    @classmethod
    def initial_from(cls, device: Device) -> dict[str, Any]:
        return _initial(device, cls.base_fields)


class DeviceCreateForm(DeviceForm):
    sku = forms.CharField(max_length=40, label="SKU", help_text="e.g. RTR-5G-200")

    field_order = ["sku", "name"]


class DeviceStockForm(forms.Form):
    serials = forms.CharField(
        label="Serial numbers",
        widget=forms.Textarea(attrs={"rows": 8, "autocomplete": "off", "spellcheck": "false"}),
        help_text="One per line, as printed on the box. Blank lines are skipped.",
        error_messages={"required": "Paste at least one serial number, one per line."},
    )

    def clean_serials(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["serials"].splitlines()]
        serials = [line for line in lines if line]
        if not serials:
            raise forms.ValidationError("Paste at least one serial number, one per line.")
        return serials
