"""Middleware every front end and the API share."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from common.api import error_response

API_PREFIX = "/api/"


class ApiErrorShapeMiddleware:
    """Every answer under /api/ is JSON in the one error shape, whatever goes wrong before or
    around the views: a body over settings.DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413
    before anything reads it, and any other error Django answered in HTML (a 400 for a
    suspicious request, a 404 from the URL resolver, a CSRF 403) is answered again as JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = request.META.get("CONTENT_LENGTH") or "0"
        if limit is not None and length.isdigit() and int(length) > limit:
            return error_response(
                f"The request body is larger than {limit:,} bytes.",
                "too_large",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("application/json"):
            status = HTTPStatus(response.status_code)
            headers = {"Retry-After": response["Retry-After"]} if "Retry-After" in response else {}
            return error_response(
                f"{status.phrase}.", status.phrase.lower().replace(" ", "_"), status, headers
            )
        return response
