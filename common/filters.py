"""Query-string filters every API list shares (django-filter)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.request import Request

from common.errors import ApplicationError


class UtcIsoDateTimeField(forms.DateTimeField):
    """An ISO 8601 date-time with any offset Python accepts (even ±23:59), compared in UTC: the
    database is never handed an offset it cannot store. A time without an offset is the
    operator's local time."""

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        return parsed.astimezone(UTC) if parsed is not None else None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


# An empty value is a valid free-text filter (it filters nothing); for any other kind of filter
# (a choice, an id, a date, a number with a pattern) the schema forbids it, so it is refused.
RULE = "rule"


def blank_query_refuse(request: Request, names: Iterable[str]) -> None:
    """400 for `?name=` on a filter whose schema does not allow an empty value."""
    blank = {
        name: ["Give a value, or leave the parameter out."]
        for name in names
        if name in request.query_params and request.query_params[name] == ""
    }
    if blank:
        raise exceptions.ValidationError(blank)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter for API lists: a value that breaks the parameter's schema answers 400; one
    that matches it but breaks a rule (a number that is not a valid phone number, raised with
    code `rule`) answers 422, as a write does."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            blank_query_refuse(
                request,
                (
                    name
                    for name, declared in filterset_class.base_filters.items()
                    if declared.field_class is not forms.CharField
                ),
            )
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            errors = filterset.form.errors.as_data()
            fields = {
                name: [m for e in found for m in e.messages] for name, found in errors.items()
            }
            if all(e.code == RULE for found in errors.values() for e in found):
                raise ApplicationError("Some fields are not valid.", fields=fields)
            raise exceptions.ValidationError(fields)
        return filterset.qs
