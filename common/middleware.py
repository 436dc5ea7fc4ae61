"""Middleware every front end and the API share."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from common.api import error_response

API_PREFIX = "/api/"
# What ApiErrorShapeMiddleware does not take over from an answer it replaces with its own.
_BODY_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "content-disposition", "etag"}
)


# The codes DRF gives the same statuses, so an answer re-shaped here reads like one from a view.
_CODES = {
    HTTPStatus.FORBIDDEN: "permission_denied",
    HTTPStatus.METHOD_NOT_ALLOWED: "method_not_allowed",
    HTTPStatus.NOT_ACCEPTABLE: "not_acceptable",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    HTTPStatus.TOO_MANY_REQUESTS: "throttled",
}


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
            # Answered before any other layer runs, so it is given their headers here.
            refusal = error_response(
                f"The request body is larger than {limit:,} bytes.",
                "too_large",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
            return security_headers_add(request, refusal)
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("application/json"):
            status = HTTPStatus(response.status_code)
            message, code = f"{status.phrase}.", _CODES.get(status, status.phrase)
            if status == HTTPStatus.TOO_MANY_REQUESTS and "Retry-After" in response:
                message = (
                    "Request was throttled. Expected available in "
                    f"{response['Retry-After']} seconds."
                )
            answer = error_response(message, code.lower().replace(" ", "_"), status)
            # Keep what the other layers said (security headers, Retry-After, Vary).
            for name, value in response.items():
                if name.lower() not in _BODY_HEADERS:
                    answer[name] = value
            return answer
        return response


def _permissions_policy() -> str:
    features = settings.PERMISSIONS_POLICY
    return ", ".join(f"{name}=({' '.join(allowed)})" for name, allowed in features.items())


def security_headers_add(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Give an answer the headers every answer carries: the Permissions-Policy, and
    `Cache-Control: no-store` on all but static files (pages and API answers hold someone's
    data: no browser or proxy may keep them; WhiteNoise gives static files long cache lifetimes,
    which stay). A header a view set itself is kept.

    X-Content-Type-Options, Referrer-Policy and X-Frame-Options come from Django's
    SecurityMiddleware and XFrameOptionsMiddleware; they are set here too, from the same
    settings, for the answers those layers never see (an error raised by an earlier layer, such
    as a 400 for an unknown host, or the API's early 413). The Content-Security-Policy comes
    from django-csp (csp.middleware.CSPMiddleware)."""
    response.headers.setdefault("Permissions-Policy", _permissions_policy())
    if not request.path.startswith(settings.STATIC_URL):
        add_never_cache_headers(response)
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if settings.SECURE_REFERRER_POLICY:
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
    if not getattr(response, "xframe_options_exempt", False):
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
    return response


class SecurityHeadersMiddleware:
    """The headers of `security_headers_add` on every answer. Second in MIDDLEWARE, right inside
    ApiErrorShapeMiddleware (whose own answers call `security_headers_add` or keep the headers
    of the answer they replace), so it sees errors raised by any later layer, and static files
    served by WhiteNoise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return security_headers_add(request, self.get_response(request))
