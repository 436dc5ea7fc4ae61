"""The two-factor gate: people in a role that requires two-factor sign-in
(settings.MFA_REQUIRED_ROLES) and who have not set it up are sent to set it up before they use
anything else.

Pages redirect to allauth's TOTP activation with a message (htmx requests are told to load
it); the API answers a JSON 403 in the one error shape to a session caller. allauth's own pages
(sign-in and out, reauthentication, password, the two-factor pages) and static files stay open,
so the way out and the way through are never blocked. API-key callers are machines and are
never gated.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from common.api import error_response
from common.api_keys import ApiKeyAuthentication
from common.mfa import two_factor_setup_required

SET_UP_URL_NAME = "mfa_activate_totp"
API_PREFIX = "/api/"
# allauth names every page of its own `account_…` or `mfa_…`.
OPEN_URL_NAME_PREFIXES = ("account_", "mfa_")
# Pages under /api/ that a person opens in a browser.
API_PAGES = frozenset({"api-docs"})
MESSAGE = (
    "Your role requires two-factor sign-in. Set up an authenticator app to continue: scan the "
    "code with the app and enter the code it shows."
)
API_MESSAGE = (
    "Two-factor sign-in is required for your role and is not set up. Set up an authenticator "
    "app at {url} before using the API with your session."
)


def _calls_with_api_key(request: HttpRequest) -> bool:
    # Only the API takes keys, and a request carrying one is answered as the key's machine user
    # or refused (401): the session behind it is never used. A page ignores the header, and an
    # empty key falls back to the session, so neither skips the gate.
    return request.path.startswith(API_PREFIX) and bool(ApiKeyAuthentication.secret_of(request))


def _always_open(request: HttpRequest) -> bool:
    if request.path.startswith(
        (settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")
    ):
        return True
    match = request.resolver_match
    url_name = (match.url_name or "") if match else ""
    return url_name.startswith(OPEN_URL_NAME_PREFIXES) or _calls_with_api_key(request)


class TwoFactorGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if _always_open(request) or not two_factor_setup_required(request.user):
            return None
        match = request.resolver_match
        if request.path.startswith(API_PREFIX) and not (match and match.url_name in API_PAGES):
            message = API_MESSAGE.format(url=reverse(SET_UP_URL_NAME))
            return error_response(message, "two_factor_required", HTTPStatus.FORBIDDEN)
        messages.warning(request, MESSAGE)
        if request.headers.get("HX-Request"):
            return HttpResponseClientRedirect(reverse(SET_UP_URL_NAME))
        return redirect(SET_UP_URL_NAME)
