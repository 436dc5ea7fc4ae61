"""Back-office forms of tariffs: they parse the input; billing.rating.services decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from billing.rating.models import Category
from billing.rating.plan import ANY
from billing.rating.services import QUANTITY_HELP, RateSlotData

RATE_GROUPS = 3  # groups a rate form offers (e.g. the first 60 s as a block, then per second)
TEXT = {"autocomplete": "off"}


def _text(label: str, *, required: bool = True, help_text: str = "", **kwargs: Any) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs=TEXT),
        **kwargs,
    )


class TariffCreateForm(forms.Form):
    code = _text("Code", max_length=40, help_text="Lower-case, e.g. postpaid-standard.")
    name = _text("Name", max_length=120)
    currency = forms.ChoiceField(choices=lambda: [(c, c) for c in settings.CURRENCIES])
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TariffEditForm(forms.Form):
    name = _text("Name", max_length=120)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = _text("Reason", max_length=200, help_text="Kept with the change.")


class ReasonForm(forms.Form):
    reason = _text("Reason", max_length=200, help_text="Kept with the change.")


class PublishForm(ReasonForm):
    valid_from = forms.DateTimeField(
        label="In force from",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text="In the operator's time zone; empty: now.",
    )


class ImportForm(ReasonForm):
    archive = forms.FileField(
        label="CGRateS tariff plan (zip)",
        help_text="A zip of the directory: Destinations.csv, Rates.csv, Timings.csv, "
        "DestinationRates.csv, RatingPlans.csv, RatingProfiles.csv.",
    )


# --- one form per section of a draft -----------------------------------------------------------


class SectionForm(forms.Form):
    """A row of one section. `choices` carries the ids the plan already has, for pickers."""

    def __init__(self, *args: Any, choices: dict[str, list[str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.choices = choices or {}

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

    @classmethod
    def initial_from(cls, row: dict[str, Any]) -> dict[str, Any]:
        return dict(row)

    def _pick(self, name: str, section: str, *, any_label: str | None = None) -> None:
        options = [(value, value) for value in self.choices.get(section, [])]
        if any_label:
            options = [(ANY, any_label), *options]
        self.fields[name] = forms.ChoiceField(
            label=self.fields[name].label, choices=[("", "—"), *options]
        )


class DestinationForm(SectionForm):
    id = _text("Id", max_length=64, help_text="e.g. GB_MOBILE")
    prefixes = _text("Prefixes", help_text="Separated by spaces, e.g. 447 4474. Longest wins.")

    @classmethod
    def initial_from(cls, row: dict[str, Any]) -> dict[str, Any]:
        return {"id": row["id"], "prefixes": " ".join(row["prefixes"])}


class RateForm(SectionForm):
    id = _text("Id", max_length=64, help_text="e.g. RT_MOBILE_PEAK")
    connect_fee = _text("Connect fee", required=False, help_text="Charged once per call.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index in range(RATE_GROUPS):
            n = index + 1
            self.fields[f"g{index}_start"] = _text(
                f"Group {n} starts at", required=False, help_text="0 for the first group."
            )
            self.fields[f"g{index}_price"] = _text(f"Group {n} price", required=False)
            self.fields[f"g{index}_unit"] = _text(
                f"Group {n} per", required=False, help_text=QUANTITY_HELP
            )
            self.fields[f"g{index}_increment"] = _text(
                f"Group {n} charged in steps of", required=False
            )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        slots = [
            RateSlotData(
                price=data[f"g{i}_price"],
                rate_unit=data[f"g{i}_unit"],
                rate_increment=data[f"g{i}_increment"],
                group_start=data[f"g{i}_start"] or "0",
            )
            for i in range(RATE_GROUPS)
            if any(data[f"g{i}_{part}"] for part in ("price", "unit", "increment"))
            or (i > 0 and data[f"g{i}_start"])
        ]
        return {"id": data["id"], "connect_fee": data["connect_fee"] or "0", "slots": slots}

    @staticmethod
    def aliases() -> dict[str, str]:
        names = {"price": "price", "rate_unit": "unit", "rate_increment": "increment"}
        names |= {"group_start": "start"}
        return {
            f"slots.{i}.{field}": f"g{i}_{short}"
            for i in range(RATE_GROUPS)
            for field, short in names.items()
        }

    @classmethod
    def initial_from(cls, row: dict[str, Any]) -> dict[str, Any]:
        initial = {"id": row["id"], "connect_fee": row.get("connect_fee", "0")}
        for index, slot in enumerate(row["slots"][:RATE_GROUPS]):
            initial |= {
                f"g{index}_start": slot["group_start_label"],
                f"g{index}_price": slot["price"],
                f"g{index}_unit": slot["rate_unit_label"],
                f"g{index}_increment": slot["rate_increment_label"],
            }
        return initial


WEEK_DAY_CHOICES = [
    ("1", "Mon"),
    ("2", "Tue"),
    ("3", "Wed"),
    ("4", "Thu"),
    ("5", "Fri"),
    ("6", "Sat"),
    ("7", "Sun"),
]


class TimingForm(SectionForm):
    id = _text("Id", max_length=64, help_text="e.g. PEAK")
    week_days = forms.MultipleChoiceField(
        choices=WEEK_DAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every day.",
    )
    start_time = _text("Starts at", required=False, help_text="HH:MM; empty: midnight.")
    end_time = _text("Ends at", required=False, help_text="HH:MM; empty: at midnight.")
    months = _text("Months", required=False, help_text="e.g. 12; empty: every month.")
    month_days = _text("Days of the month", required=False, help_text="e.g. 25 26 (holidays).")
    years = _text("Years", required=False, help_text="Empty: every year.")

    @classmethod
    def initial_from(cls, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "week_days": [str(day) for day in row["week_days"]],
            "start_time": row["start_time"][:5],
            "end_time": row.get("end_time", "")[:5],
            "months": " ".join(str(v) for v in row["months"]),
            "month_days": " ".join(str(v) for v in row["month_days"]),
            "years": " ".join(str(v) for v in row["years"]),
        }


class DestinationRateForm(SectionForm):
    id = _text("Id", max_length=64, help_text="Rows with one id form a set, e.g. DR_PEAK.")
    destination_id = _text("Destination")
    rate_id = _text("Rate")
    rounding_method = forms.ChoiceField(
        choices=[("*up", "Up"), ("*middle", "Half-up"), ("*down", "Down")], initial="*up"
    )
    rounding_decimals = forms.IntegerField(min_value=0, max_value=10, initial=4)
    max_cost = _text("Maximum cost", required=False, help_text="Empty or 0: no maximum.")
    max_cost_strategy = forms.ChoiceField(
        label="Beyond the maximum",
        choices=[("", "No maximum"), ("*free", "The rest is free"), ("*disconnect", "Disconnect")],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pick("destination_id", "destinations", any_label="Any number (*any)")
        self._pick("rate_id", "rates")


class RatingPlanForm(SectionForm):
    rating_plan_id = _text("Rating plan", max_length=64, help_text="e.g. RP_VOICE")
    destination_rates_id = _text("Destination rates")
    timing_id = _text("Time band")
    weight = _text("Weight", required=False, help_text="The higher weight wins an overlap.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pick("destination_rates_id", "destination_rates")
        self._pick("timing_id", "timings", any_label="Always (*any)")


class RatingProfileForm(SectionForm):
    category = forms.ChoiceField(choices=Category.choices)
    subject = _text("Subject", initial=ANY, help_text="*any: everyone; or a plan code.")
    activation_time = _text(
        "From", initial="2020-01-01T00:00:00+00:00", help_text="ISO 8601 with its offset."
    )
    rating_plan_id = _text("Rating plan")
    fallback_subjects = _text("Fallback subjects", required=False, help_text="e.g. *any")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pick("rating_plan_id", "rating_plans")

    @classmethod
    def initial_from(cls, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "fallback_subjects": " ".join(row["fallback_subjects"])}


SECTION_FORMS: dict[str, type[SectionForm]] = {
    "destinations": DestinationForm,
    "rates": RateForm,
    "timings": TimingForm,
    "destination_rates": DestinationRateForm,
    "rating_plans": RatingPlanForm,
    "rating_profiles": RatingProfileForm,
}


class QuoteForm(forms.Form):
    """What would this cost: a call, messages or data on a tariff at a moment."""

    UNITS = [("seconds", "seconds (voice)"), ("messages", "messages"), ("mb", "MB (data)")]

    tariff = forms.ChoiceField(label="Tariff or plan")
    category = forms.ChoiceField(choices=Category.choices, initial=Category.CALL)
    subject = _text("Subject", required=False, help_text="Empty: the plan code, else *any.")
    destination = _text("Destination number", required=False, help_text="e.g. 447700900123")
    answer_time = forms.DateTimeField(
        label="Answered at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text="In the operator's time zone.",
    )
    usage = forms.DecimalField(min_value=0, max_digits=14, decimal_places=3, initial=60)
    unit = forms.ChoiceField(choices=UNITS, initial="seconds")
    cgrates_decimals = forms.IntegerField(
        label="CGRateS rounding",
        required=False,
        min_value=0,
        max_value=10,
        help_text="Optional: round as CGRateS does to this many decimals, to compare costs.",
    )

    def __init__(self, *args: Any, tariff_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["tariff"].choices = tariff_choices  # type: ignore[attr-defined]
