"""The client's address: X-Forwarded-For is believed only as far as our own proxies wrote it."""

from __future__ import annotations

import pytest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from common.http import client_ip

PROXY = "10.0.0.2"  # the last proxy before us: the connection's own address


def request_from(rf, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return rf.get("/", REMOTE_ADDR=PROXY, headers=headers)


def test_without_trusted_proxies_x_forwarded_for_is_ignored(rf, settings):
    # given: nobody said a proxy of ours is in front, so the header is the client's own words
    settings.TRUSTED_PROXY_COUNT = 0
    request = request_from(rf, "203.0.113.9")
    # when
    address = client_ip(request)
    # then
    assert address == PROXY


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.66, 203.0.113.9", "203.0.113.9"),  # the left entry is forged
        (2, "198.51.100.66, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (2, " 203.0.113.9 ,10.0.0.1", "203.0.113.9"),
        (3, "203.0.113.9, 10.0.0.1", "203.0.113.9"),  # shorter than N: the leftmost, like DRF
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_n_proxies_the_nth_entry_from_the_right_is_the_client(
    rf, settings, count, forwarded, expected
):
    # given
    settings.TRUSTED_PROXY_COUNT = count
    request = request_from(rf, forwarded)
    # when
    address = client_ip(request)
    # then
    assert address == expected


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address", "203.0.113.9, unknown"])
def test_behind_a_proxy_a_missing_or_garbled_header_gives_the_connections_address(
    rf, settings, forwarded
):
    # given
    settings.TRUSTED_PROXY_COUNT = 1
    request = request_from(rf, forwarded)
    # when
    address = client_ip(request)
    # then
    assert address == PROXY


@pytest.mark.parametrize("count", [0, 1, 2])
def test_drf_throttling_sees_the_same_client_as_the_rest_of_the_project(rf, settings, count):
    # given: settings.py gives DRF the same count as NUM_PROXIES
    settings.TRUSTED_PROXY_COUNT = count
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}
    request = request_from(rf, "198.51.100.66, 203.0.113.9, 10.0.0.1")
    # when
    ident = BaseThrottle().get_ident(Request(request))
    # then
    assert ident == client_ip(request)
