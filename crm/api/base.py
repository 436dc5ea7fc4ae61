"""Glue every API operation shares: routing by method, permissions after the fetch, the
error schema, paginated filtered lists and the API key scheme in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, cast
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase, JsonResponse
from django_filters import FilterSet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import Pagination
from common.errors import ApplicationError
from crm.models import User


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Api-Key <key>` in the OpenAPI schema."""

    target_class = "crm.api_keys.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; a key holds only the permissions it was issued with.",
        }


class _MethodRouterSchema(AutoSchema):
    """Documents each method of a routed URL from the operation APIView that serves it."""

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any
    ) -> Any:
        router = cast("MethodRouter", self.view)
        generator = SchemaGenerator()  # keeps the operation view's schema alive during this call
        view = generator.create_view(router.operations[method].as_view(), method)
        view.request = router.request
        return view.schema.get_operation(path, path_regex, path_prefix, method, registry)


class MethodRouter(APIView):
    """One URL whose HTTP methods are served by separate APIViews, one per operation.

    `GET /customers/` and `POST /customers/` are two operations with their own serializers and
    permissions; Django routes by path only, so this view hands each request on by its method.
    """

    operations: ClassVar[dict[str, type[APIView]]] = {}
    _views: ClassVar[dict[str, Callable[..., HttpResponseBase]]] = {}
    schema = _MethodRouterSchema()

    @classmethod
    def serving(cls, **operations: type[APIView]) -> Callable[..., HttpResponseBase]:
        by_method = {method.upper(): view for method, view in operations.items()}
        attributes: dict[str, Any] = {
            "operations": by_method,
            "_views": {method: view.as_view() for method, view in by_method.items()},
            "__doc__": cls.__doc__,
        }
        # The Allow header and schema discovery list the methods that have an operation.
        attributes.update({method.lower(): cls._served_elsewhere for method in by_method})
        name = "".join(view.__name__ for view in by_method.values()) + "Router"
        router: type[MethodRouter] = type(name, (cls,), attributes)
        return router.as_view()

    def _served_elsewhere(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed(request.method or "")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        method = "GET" if request.method == "HEAD" else (request.method or "")
        view = self._views.get(method)
        if view is None:  # OPTIONS, or a method nobody serves (405 in the error shape)
            return super().dispatch(request, *args, **kwargs)
        return view(request, *args, **kwargs)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other URL under /api/v1/ (and a malformed public_id) answers 404 in the error shape."""
    body = {"message": "Not found.", "code": "not_found", "extra": {"fields": {}}}
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)


def on_object(permission: type[BasePermission]) -> type[BasePermission]:
    """`permission`, checked only once the object has been found through its scoped selector.

    So someone else's object answers 404 whatever the caller's role, and 403 is kept for an
    object the caller can see but may not change.
    """

    class OnObject(IsAuthenticated):
        message = getattr(permission, "message", None)

        def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
            return permission().has_permission(request, view)

    OnObject.__name__ = f"OnObject_{permission.__name__}"
    return OnObject


def actor_of(request: Request) -> User:
    """Who acts: a person, or an API key's machine user (the permission classes let no one else
    reach a write)."""
    return cast("User", request.user)


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
    filter_backends = [DjangoFilterBackend]
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


_ERROR_MEANINGS = {
    400: "The input is not valid; `extra.fields` names each field at fault.",
    401: "No credentials, or the API key is wrong or revoked.",
    403: "The caller's role or API key may not do this.",
    404: "No such object among those the caller may see.",
    409: "The object's current state refuses it (`invalid_transition`), or a concurrent "
    "request took the same number or SIM first (`conflict`).",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, _ERROR_MEANINGS[code]) for code in codes}


def visible(get_for: Callable[[Any, UUID], Any], request: Request, name: str, value: UUID) -> Any:
    """An object referenced in the body; one the caller may not see is reported as unknown."""
    try:
        return get_for(request.user, value)
    except Http404:
        raise exceptions.ValidationError({name: [f"There is no {name} with this id."]}) from None
