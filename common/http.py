"""Facts about an HTTP request that more than one part of the project needs, read one way."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent `request`, as sign-in throttling and anything that
    records an address should see it.

    Behind `settings.TRUSTED_PROXY_COUNT` reverse proxies of our own, each proxy appends the
    address it was called from to X-Forwarded-For, so the client is the Nth entry from the
    right; everything further left was written by the client and may be forged. With no trusted
    proxy (the default) the header is never read: anyone can send it. A list shorter than N (a
    request that did not pass every proxy) gives its leftmost entry, as DRF's throttling does
    with the same NUM_PROXIES, so both see one address. An entry that is not an address is
    ignored in favour of the connection's own address.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "")
    count = int(settings.TRUSTED_PROXY_COUNT)
    forwarded = request.headers.get("X-Forwarded-For", "")
    if count > 0 and forwarded.strip():
        entries = forwarded.split(",")
        found = _address(entries[-min(count, len(entries))])
        if found is not None:
            return found
    return remote
