"""DRF glue every app's API shares: one error shape, pagination, permission checks, the API
key scheme in the OpenAPI document, and small helpers for views.

Each API is a plain APIView per URL, with one method per operation and nested Input/Output
serializers. Objects are fetched through a scoped selector first (someone else's object answers
404), then the write permission is checked with `require_perm` (403 is kept for an object the
caller can see but may not change).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, NoReturn, cast
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from django_filters import FilterSet
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import ApplicationError, InvalidTransition
from common.filters import StrictFilterBackend
from common.pagination import Pagination
from common.types import Actor


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
        # The request matched the published schema (the serializers answer 400 when it does
        # not) but a business rule refused it: 409 when the object's current state refuses,
        # 422 for any other rule (a referenced object that does not exist, a number that is
        # not a valid phone number, a plan not sold to this customer).
        conflict = isinstance(exc, InvalidTransition) or exc.code == "conflict"
        return Response(
            {"message": exc.message, "code": exc.code, "extra": {"fields": exc.fields}},
            status=status.HTTP_409_CONFLICT if conflict else status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {
                "message": f"The request body is larger than {limit:,} bytes.",
                "code": "too_large",
                "extra": {"fields": {}},
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return Response(
            {"message": str(exc), "code": "too_many_fields", "extra": {"fields": {}}},
            status=status.HTTP_400_BAD_REQUEST,
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


def require_perm(
    request: Request, permission: str, message: str = "Your role or API key may not do this."
) -> None:
    """Refuse with 403 unless the caller holds `permission`; call it once the object is found."""
    if not request.user.has_perm(permission):
        raise exceptions.PermissionDenied(message)


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other address under /api/ (and a malformed public_id) answers 404 in the error shape,
    whatever the method: no CSRF page, and no redirect a client would follow as a GET. An
    address that only lacks its trailing slash is named."""
    message = "Not found."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            message = f"Not found. The address is {request.path}/ (with a trailing slash)."
    return error_response(message, "not_found", status.HTTP_404_NOT_FOUND)


def error_response(
    message: str, code: str, status_code: int, headers: dict[str, str] | None = None
) -> JsonResponse:
    """An answer in the one error shape, outside DRF (middleware, plain views)."""
    body = {"message": message, "code": code, "extra": {"fields": {}}}
    response = JsonResponse(body, status=status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def actor_of(request: Request) -> Any:
    """Who acts: a person, or an API key's machine user (the permission classes let no one else
    reach a write)."""
    return cast("Actor", request.user)


@contextmanager
def fields_named(names: dict[str, str]) -> Iterator[None]:
    """Services name fields after their keyword arguments; report them as the API names them."""
    try:
        yield
    except ApplicationError as exc:
        exc.fields = {names.get(name, name): messages for name, messages in exc.fields.items()}
        raise


class ListApi(APIView):
    # A list is the caller's scoped queryset, narrowed by `filterset_class`, one page at a time.

    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    filter_backends = [StrictFilterBackend]
    filterset_class: ClassVar[type[FilterSet]]

    def paginated(self, queryset: QuerySet[Any], output: type[serializers.Serializer]) -> Response:
        for backend in self.filter_backends:
            queryset = backend().filter_queryset(self.request, queryset, self)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(output(page, many=True).data)


class ErrorSerializer(serializers.Serializer):
    class ExtraSerializer(serializers.Serializer):
        fields = serializers.DictField(  # type: ignore[assignment]  # a field named "fields"
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Messages per input field; a nested field is named `parent.child`.",
        )

        class Meta:
            ref_name = "ErrorExtra"

    message = serializers.CharField(help_text="Safe to show to a person.")
    code = serializers.CharField(help_text="Machine-readable, e.g. `invalid`, `not_found`.")
    extra = ExtraSerializer()

    class Meta:
        ref_name = "Error"


ERROR_MEANINGS = {
    400: "The request does not match this schema (malformed JSON, a missing field, a value of "
    "the wrong type, pattern or range); `extra.fields` names each field at fault.",
    401: "No credentials, or the API key is wrong or revoked.",
    403: "The caller's role or API key may not do this.",
    404: "No such object among those the caller may see.",
    406: "The Accept header asks for something other than JSON.",
    409: "The object's current state refuses it (`invalid_transition`), or a concurrent "
    "request took the same number or SIM first (`conflict`).",
    413: "The request body is larger than the server accepts; the message gives the limit.",
    415: "The body is not JSON (nor a form).",
    422: "The request matches the schema but a business rule refuses it (a referenced object "
    "that does not exist, a number that is not a valid phone number, a plan not sold here), "
    "or its Idempotency-Key was used for a different request (`idempotency_key_reused`); "
    "`extra.fields` names each field at fault.",
    429: "Too many requests; wait the seconds given in `Retry-After`.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, ERROR_MEANINGS[code]) for code in codes}


def refuse(fields: dict[str, list[str]], message: str = "Some fields are not valid.") -> NoReturn:
    """Refuse a request that matched the schema but broke a rule the schema cannot express
    (422), naming each field at fault; a serializer's own field errors stay 400."""
    raise ApplicationError(message, code="invalid", fields=fields)


def visible(get_for: Callable[[Any, UUID], Any], request: Request, name: str, value: UUID) -> Any:
    """An object referenced in the body; one the caller may not see is reported as unknown."""
    try:
        return get_for(request.user, value)
    except Http404:
        refuse({name: [f"There is no {name} with this id."]})
