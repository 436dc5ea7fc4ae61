"""The sign-in page: allauth's, except that a throttled attempt answers 429 Too Many Requests
with Retry-After, so scripts, proxies and monitoring see throttling for what it is, while a
person still reads allauth's message on the page. It says so when no role has to sign in with
a second factor (settings.MFA_REQUIRED_ROLES is empty, as on the demo).
"""

from __future__ import annotations

import math
import time
from http import HTTPStatus
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import LoginForm
from allauth.account.views import LoginView
from allauth.core.internal import ratelimit
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse

THROTTLED = "too_many_login_attempts"  # the code of allauth's LoginForm error
_APP = "allauth.account"
_ACTION = "login_failed"


def sign_in_retry_after(request: HttpRequest, *, credentials: dict[str, Any]) -> int:
    """Seconds until allauth's `login_failed` limits (ACCOUNT_RATE_LIMITS, per address and per
    login) let this client try these credentials again: for each full limit, until enough of
    the failures it counts have left its window. Reads allauth 65's rate-limit records, which
    keep the time of each counted failure; if none is found full (allauth refused for another
    reason), the shortest window."""
    rates = ratelimit.get_rates(app=_APP, action=_ACTION)
    key = get_adapter(request)._get_login_attempts_cache_key(request, **credentials)
    now = time.time()
    waits: list[float] = []
    for rate in rates:
        cache_key = ratelimit.get_cache_key(request, app=_APP, action=_ACTION, rate=rate, key=key)
        counted = sorted(t for t in cache.get(cache_key, []) if t > now - rate.duration)
        if len(counted) >= rate.amount:
            waits.append(counted[len(counted) - rate.amount] + rate.duration - now)
    if not waits:
        waits = [float(min((rate.duration for rate in rates), default=60))]
    return max(1, math.ceil(max(waits)))  # whole seconds, rounded up: never too early


class SignInView(LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["two_factor_off"] = not settings.MFA_REQUIRED_ROLES
        return context

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        response: HttpResponse = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, THROTTLED):
            response.status_code = HTTPStatus.TOO_MANY_REQUESTS
            credentials = form.user_credentials()
            credentials.pop("password", None)
            response["Retry-After"] = str(
                sign_in_retry_after(self.request, credentials=credentials)
            )
        return response


sign_in = SignInView.as_view()
