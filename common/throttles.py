"""API request rates: a caller over its rate answers 429 with Retry-After (in the one error
shape, through the API's exception handler). Rates come from settings on every request, so an
operator changes them without a code change."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class ApiAnonThrottle(AnonRateThrottle):
    """Callers without credentials, per client address (behind TRUSTED_PROXY_COUNT proxies)."""

    def get_rate(self) -> str:
        return settings.API_RATE_ANONYMOUS


class ApiUserThrottle(UserRateThrottle):
    """Each signed-in person and each API key on its own."""

    def get_rate(self) -> str:
        return settings.API_RATE_USER
