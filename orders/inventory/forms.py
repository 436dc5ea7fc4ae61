"""Forms of the inventory back office: they check the shape of input; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from common.money import Money
from crm.validators import iccid_clean
from orders.inventory.models import Msisdn, SimBatch, SimCard
from orders.inventory.selectors import msisdn_pattern_clean, partners_for_allocation
from partners.models import Partner


def _any(choices: Any, label: str) -> list[tuple[str, str]]:
    return [("", label), *[(str(v), str(t)) for v, t in choices]]


class MsisdnFilterForm(forms.Form):
    status = forms.ChoiceField(choices=_any(Msisdn.Status.choices, "Any status"), required=False)
    category = forms.ChoiceField(
        choices=_any(Msisdn.Category.choices, "Any category"), required=False
    )
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.order_by("path"),
        to_field_name="code",
        required=False,
        empty_label="Any partner",
    )
    pattern = forms.CharField(
        max_length=20,
        required=False,
        label="Number",
        help_text="Digits it contains (777), or how it begins (07500 or +447500).",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def clean_pattern(self) -> str:
        try:
            return msisdn_pattern_clean(self.cleaned_data["pattern"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class MsisdnRangeImportForm(forms.Form):
    first = forms.CharField(
        max_length=30,
        label="First number",
        help_text="e.g. 07500 000000 or +447500000000",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    last = forms.CharField(
        max_length=30,
        label="Last number",
        help_text=f"At most {settings.MSISDN_RANGE_MAX:,} numbers from the first, inclusive.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    category = forms.ChoiceField(choices=Msisdn.Category.choices, initial=Msisdn.Category.STANDARD)
    price = forms.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=Decimal("0"),
        required=False,
        label="Price",
        help_text="What a customer pays for one number; silver and golden numbers need one.",
    )
    currency = forms.ChoiceField(choices=[], initial=settings.DEFAULT_CURRENCY)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in settings.CURRENCIES]  # type: ignore[attr-defined]

    def import_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        price = data["price"] if data["price"] is not None else Decimal("0")
        return {
            "first": data["first"],
            "last": data["last"],
            "category": data["category"],
            "price": Money(price, data["currency"]),
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Why (kept in the history)"}),
    )


class SimBatchImportForm(forms.Form):
    name = forms.CharField(
        max_length=120,
        label="Batch name",
        help_text="e.g. the supplier's delivery note number.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="A header row iccid,imsi,puk then one SIM per line.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class SimFilterForm(forms.Form):
    status = forms.ChoiceField(choices=_any(SimCard.Status.choices, "Any status"), required=False)
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.order_by("path"),
        to_field_name="code",
        required=False,
        empty_label="Any partner",
    )
    batch = forms.ModelChoiceField(
        queryset=SimBatch.objects.order_by("-created_at"),
        to_field_name="public_id",
        required=False,
        empty_label="Any batch",
    )
    text = forms.CharField(
        max_length=20,
        required=False,
        label="ICCID or IMSI",
        help_text="Any part of the number.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_text(self) -> str:
        text = "".join(self.cleaned_data["text"].split())
        if text and not text.isdigit():
            raise forms.ValidationError("ICCIDs and IMSIs are digits only.")
        return text


class MsisdnAllocateForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), to_field_name="code", empty_label="Choose a partner"
    )
    count = forms.IntegerField(
        min_value=1,
        max_value=10_000,
        required=False,
        label="How many",
        help_text="Take this many free numbers of the category from the pool, lowest first…",
    )
    category = forms.ChoiceField(
        choices=Msisdn.Category.choices, initial=Msisdn.Category.STANDARD, required=False
    )
    numbers = forms.CharField(
        required=False,
        label="…or these numbers",
        help_text="One per line (or separated by commas), typed any way: 07500 000123.",
        widget=forms.Textarea(attrs={"rows": 4, "inputmode": "tel"}),
    )
    reason = forms.CharField(max_length=200, required=False, help_text="Optional, e.g. an order.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners_for_allocation()  # type: ignore[attr-defined]

    def clean_numbers(self) -> list[str]:
        raw = self.cleaned_data["numbers"].replace(",", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        count, numbers = data.get("count"), data.get("numbers")
        if "count" in self.errors or "numbers" in self.errors:
            return data
        if count and numbers:
            raise forms.ValidationError("Give either a number of numbers or a list, not both.")
        if not count and not numbers:
            raise forms.ValidationError("Give how many numbers, or list them.")
        return data


class SimAllocateForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), to_field_name="code", empty_label="Choose a partner"
    )
    count = forms.IntegerField(
        min_value=1,
        max_value=10_000,
        required=False,
        label="How many",
        help_text="Take this many SIMs from central stock, lowest ICCID first…",
    )
    batch = forms.ModelChoiceField(
        queryset=SimBatch.objects.order_by("-created_at"),
        to_field_name="public_id",
        required=False,
        empty_label="Any batch",
        label="From batch",
    )
    iccids = forms.CharField(
        required=False,
        label="…or these SIMs",
        help_text="ICCIDs, one per line (or separated by commas).",
        widget=forms.Textarea(attrs={"rows": 4, "inputmode": "numeric"}),
    )
    reason = forms.CharField(max_length=200, required=False, help_text="Optional, e.g. an order.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners_for_allocation()  # type: ignore[attr-defined]

    def clean_iccids(self) -> list[str]:
        raw = self.cleaned_data["iccids"].replace(",", "\n")
        iccids = [line.strip() for line in raw.splitlines() if line.strip()]
        bad = []
        for iccid in iccids:
            try:
                iccid_clean(iccid)
            except forms.ValidationError as exc:
                bad.append(f"{iccid}: {exc.messages[0]}")
        if bad:
            raise forms.ValidationError(bad)
        return iccids

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        count, iccids = data.get("count"), data.get("iccids")
        if "count" in self.errors or "iccids" in self.errors:
            return data
        if count and iccids:
            raise forms.ValidationError("Give either a number of SIMs or a list, not both.")
        if not count and not iccids:
            raise forms.ValidationError("Give a number of SIMs or list their ICCIDs.")
        if iccids and data.get("batch") is not None:
            self.add_error("batch", "A batch only applies when allocating by number.")
        return data
