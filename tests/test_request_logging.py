"""An expected refusal (403, 404) logs one line; a server error keeps its traceback."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

import config.urls

# For test_a_server_error_still_logs_its_traceback: the site plus one page that breaks.


def _broken_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the page broke")


urlpatterns = [path("broken/", _broken_page), *config.urls.urlpatterns]


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the `django.request` records print, formatted as a log handler would."""
    formatter = logging.Formatter("%(levelname)s %(message)s")
    return [formatter.format(r) for r in caplog.records if r.name == "django.request"]


UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("case", "persona", "method", "url", "line"),
    [
        ("page 403", "subscriber", "get", "/console/", "Forbidden (Permission denied): "),
        ("page 404", "csr", "get", f"/console/customers/{UNKNOWN}/", "Not Found: "),
        ("no such page 404", "csr", "get", "/console/nothing-here/", "Not Found: "),
        ("API 403", "subscriber", "post", "/api/v1/customers/", "Forbidden: "),
        ("API 404", "csr", "get", f"/api/v1/customers/{UNKNOWN}/", "Not Found: "),
        ("API 405", "csr", "delete", "/api/v1/customers/", "Method Not Allowed: "),
        ("API 401", "anonymous", "get", "/api/v1/customers/", "Unauthorized: "),
    ],
)
def test_an_expected_refusal_logs_one_line_without_a_traceback(
    case, persona, method, url, line, client: Client, request, caplog, db
):
    # given
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    # when
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = getattr(client, method)(url)
    # then
    assert response.status_code == int(case.split()[-1])
    assert logged(caplog) == [f"WARNING {line}{url}"]
    assert all(record.exc_info is None for record in caplog.records)


def test_a_view_refusing_with_permission_denied_logs_no_traceback(client: Client, subscriber):
    """Django attaches the PermissionDenied to the record; the filter drops it before any handler
    formats it (a handler of its own, not pytest's capture, proves what a log file gets)."""
    # given
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    logging.getLogger().addHandler(handler)
    client.force_login(subscriber)
    # when
    try:
        response = client.get("/console/")
    finally:
        logging.getLogger().removeHandler(handler)
    # then
    assert response.status_code == 403
    assert lines == ["Forbidden (Permission denied): /console/"]


@pytest.mark.urls("tests.test_request_logging")
def test_a_server_error_still_logs_its_traceback(caplog, db):
    # given
    client = Client(raise_request_exception=False)
    # when
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.get("/broken/")
    # then
    assert response.status_code == 500
    [text] = logged(caplog)
    assert text.startswith("ERROR Internal Server Error: /broken/\nTraceback (most recent call")
    assert "RuntimeError: the page broke" in text
