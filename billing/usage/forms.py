"""Forms of the usage back office: they check the shape of input; the services decide."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from billing.usage.models import UsageBatch, UsageMapping, UsageRecord
from billing.usage.parsers.generic import FIELDS
from common.forms import date_field

SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$"
FILE_FORMATS = [
    (UsageBatch.Format.ASTERISK, UsageBatch.Format.ASTERISK.label),
    (UsageBatch.Format.FREESWITCH, UsageBatch.Format.FREESWITCH.label),
    (UsageBatch.Format.CSV, UsageBatch.Format.CSV.label),
]


class UsageUploadForm(forms.Form):
    file = forms.FileField(help_text="A CDR file as the switch wrote it, or a CSV file.")
    format = forms.ChoiceField(choices=FILE_FORMATS, initial=UsageBatch.Format.ASTERISK)
    mapping = forms.ModelChoiceField(
        queryset=UsageMapping.objects.order_by("name"),
        to_field_name="name",
        required=False,
        empty_label="—",
        help_text="Generic CSV only: which column is which field.",
    )
    source = forms.RegexField(
        SOURCE_PATTERN,
        max_length=120,
        initial="backoffice-upload",
        help_text="The system that wrote the file, e.g. asterisk-pbx-1: a record sent again "
        "by the same system is known as a duplicate.",
        error_messages={"invalid": "Letters, digits, dots, colons and dashes, e.g. pbx-1."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("format") == UsageBatch.Format.CSV and not data.get("mapping"):
            self.add_error("mapping", "A generic CSV file needs a saved column mapping.")
        if data.get("format") != UsageBatch.Format.CSV:
            data["mapping"] = None
        return data

    def file_store(self) -> Path:
        """Keep the uploaded file where every worker reads it (MEDIA_ROOT/usage/…)."""
        upload = self.cleaned_data["file"]
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(upload.name).name)[-100:] or "upload"
        folder = Path(settings.MEDIA_ROOT) / "usage" / timezone.now().strftime("%Y/%m")
        folder = folder / uuid.uuid4().hex  # the file keeps its own name (the batch shows it)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        with path.open("wb") as out:
            for block in upload.chunks():
                out.write(block)
        return path


def _reasons() -> list[tuple[str, str]]:
    return [("", "Any reason"), *[(str(v), str(v)) for v, _ in UsageRecord.RejectReason.choices]]


class RejectFilterForm(forms.Form):
    reason = forms.ChoiceField(choices=_reasons, required=False)
    batch = forms.UUIDField(required=False, widget=forms.HiddenInput)
    since = date_field("Usage from")
    until = date_field("Usage until", help_text="Inclusive.")
    number = forms.RegexField(
        r"^\+?[0-9]{1,20}$",
        max_length=21,
        required=False,
        label="Number",
        help_text="Digits of the calling or called number or the IMSI.",
        error_messages={"invalid": "Digits only, e.g. 07400123456 or 7400123."},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end is before the start.")
        return data

    def selection(self) -> dict[str, Any]:
        """The filter as the selector takes it (days in the operator's zone, as UTC times)."""
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def moment(day: Any) -> datetime | None:
            if day is None:
                return None
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)

        until = data.get("until")
        return {
            "reason": data.get("reason") or "",
            "since": moment(data.get("since")),
            "until": moment(until + timedelta(days=1)) if until else None,
            "number": (data.get("number") or "").lstrip("+"),
        }


class IdsField(forms.Field):
    """The ids of the ticked rows (checkboxes named alike)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError):
            raise forms.ValidationError("Choose rows from the list.") from None


class RecycleForm(forms.Form):
    SELECTED = "selected"
    MATCHING = "matching"

    scope = forms.ChoiceField(
        choices=[(SELECTED, "The rows ticked"), (MATCHING, "Every reject matching the filter")],
        initial=SELECTED,
        widget=forms.RadioSelect,
        label="Recycle",
    )
    ids = IdsField(required=False)
    reason = forms.CharField(
        max_length=200,
        help_text="Why, e.g. “line created for 07400 123456” (kept on every record).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scope") == self.SELECTED and not data.get("ids"):
            self.add_error("ids", "Tick the rows to recycle, or choose every matching reject.")
        return data


DELIMITERS = [(",", "Comma ,"), (";", "Semicolon ;"), ("\t", "Tab"), ("|", "Bar |")]


class MappingForm(forms.Form):
    """A column per usage field: the header's name for it, or its 0-based position."""

    name = forms.SlugField(max_length=60, help_text="How uploads name it, e.g. partner-sms.")
    has_header = forms.BooleanField(
        required=False, initial=True, label="The first row names the columns"
    )
    delimiter = forms.ChoiceField(choices=DELIMITERS, initial=",")
    time_format = forms.CharField(
        max_length=40,
        initial="iso",
        help_text="iso (ISO 8601), epoch (Unix seconds) or a strptime format such as "
        "%d/%m/%Y %H:%M:%S.",
    )
    time_zone = forms.CharField(
        max_length=40,
        initial="UTC",
        help_text="Zone of times without an offset, e.g. Europe/London.",
    )
    default_service = forms.ChoiceField(
        choices=[("", "—"), *UsageRecord.Service.choices],
        required=False,
        help_text="For files without a service column.",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in FIELDS:
            self.fields[f"column_{field}"] = forms.CharField(
                max_length=60,
                required=field == "started_at",
                label=field,
                help_text="Required." if field == "started_at" else "",
            )
        if editing:
            self.fields["name"].disabled = True

    @staticmethod
    def initial_for(mapping: UsageMapping) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": mapping.name,
            "has_header": mapping.has_header,
            "delimiter": mapping.delimiter,
            "time_format": mapping.time_format,
            "time_zone": mapping.time_zone,
            "default_service": (mapping.defaults or {}).get("service", ""),
        }
        for field, column in mapping.columns.items():
            initial[f"column_{field}"] = str(column)
        return initial

    def column_fields(self) -> list[Any]:
        return [self[f"column_{field}"] for field in FIELDS]

    def clean_time_format(self) -> str:
        value: str = self.cleaned_data["time_format"].strip()
        if value not in ("iso", "epoch") and "%" not in value:
            raise forms.ValidationError("Use iso, epoch or a strptime format with % codes.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_header = data.get("has_header")
        for field in FIELDS:
            value = (data.get(f"column_{field}") or "").strip()
            if value and not has_header and not value.isdigit():
                self.add_error(
                    f"column_{field}",
                    "Without a header row, give the column's position (0 for the first).",
                )
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        columns: dict[str, str | int] = {}
        for field in FIELDS:
            value = (data.get(f"column_{field}") or "").strip()
            if value:
                columns[field] = int(value) if value.isdigit() else value
        defaults = {"service": data["default_service"]} if data.get("default_service") else {}
        return {
            "name": data["name"],
            "columns": columns,
            "time_format": data["time_format"],
            "time_zone": data["time_zone"].strip(),
            "delimiter": data["delimiter"],
            "has_header": bool(data.get("has_header")),
            "defaults": defaults,
        }
