"""DRF glue shared by every app: one error shape, pagination, permission helpers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import ApplicationError, InvalidTransition


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for name, value in detail.items():
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    fields[f"{name}.{sub}"] = messages
            else:
                values = value if isinstance(value, list) else [value]
                fields[name] = [str(v) for v in values]
        return fields
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error body is `{"message", "code", "extra": {"fields": {...}}}`."""
    if isinstance(exc, ApplicationError):
        # The request was well-formed but the object's current state refuses it: 409.
        conflict = isinstance(exc, InvalidTransition) or exc.code == "conflict"
        return Response(
            {"message": exc.message, "code": exc.code, "extra": {"fields": exc.fields}},
            status=status.HTTP_409_CONFLICT if conflict else status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": [str(m) for m in exc.messages]}
        )
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "Some fields are not valid." if fields else "The request is not valid."
        response.data = {"message": message, "code": "invalid", "extra": {"fields": fields}}
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else str(exc.default_detail)
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = {"message": message, "code": code, "extra": {"fields": {}}}
    return response


def has_perm(permission: str) -> type[BasePermission]:
    """A DRF permission class requiring one Django permission."""

    class HasPerm(BasePermission):
        message = "Your role or API key may not do this."

        def has_permission(self, request: Request, view: APIView) -> bool:
            return bool(request.user and request.user.has_perm(permission))

    HasPerm.__name__ = f"HasPerm_{permission.replace('.', '_')}"
    return HasPerm
