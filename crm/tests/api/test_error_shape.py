"""Whatever goes wrong, an /api/ answer is JSON in the one error shape, and nothing is written.

Each test here is a finding of the outside review (issue 7) that once answered HTML, an empty
redirect or a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from crm.models import Customer
from crm.tests.api.conftest import error, invalid

CUSTOMERS = "/api/v1/customers/"


def shape_of(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"message", "code", "extra"}, body
    return body


@pytest.mark.parametrize("method", ["get", "post", "patch", "put", "delete"])
def test_an_unknown_api_address_answers_a_json_404_for_every_method(
    api_as: Callable[[str], APIClient], method: str
):
    # given a session client that enforces CSRF like a browser
    client = api_as("csr")
    client.handler.enforce_csrf_checks = True
    # when
    response = getattr(client, method)("/api/v1/nothing-here/", {"a": 1}, format="json")
    # then
    assert response.status_code == 404
    assert shape_of(response) == error("Not found.", "not_found")


def test_an_unknown_address_outside_v1_answers_a_json_404(api_as: Callable[[str], APIClient]):
    # when
    response = api_as("key_full").post("/api/v2/customers/", {}, format="json")
    # then
    assert response.status_code == 404
    assert shape_of(response)["code"] == "not_found"


def test_a_write_without_the_trailing_slash_names_the_right_address_and_writes_nothing(
    api_as: Callable[[str], APIClient],
):
    # when
    response = api_as("key_full").post(
        "/api/v1/customers", {"first_name": "Ann"}, format="json", follow=False
    )
    # then
    assert response.status_code == 404
    assert shape_of(response) == error(
        "Not found. The address is /api/v1/customers/ (with a trailing slash).", "not_found"
    )
    assert not Customer.objects.exists()


def test_an_unsupported_method_answers_a_json_405(api_as: Callable[[str], APIClient]):
    # when
    response = api_as("key_full").delete(CUSTOMERS)
    # then
    assert response.status_code == 405
    assert shape_of(response)["code"] == "method_not_allowed"


def test_a_body_over_the_limit_answers_413_naming_the_limit(
    api_as: Callable[[str], APIClient], settings: Any
):
    # given
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"first_name": "x" * 2000})
    # when
    response = api_as("key_full").post(CUSTOMERS, body, content_type="application/json")
    # then
    assert response.status_code == 413
    assert shape_of(response) == error("The request body is larger than 1,000 bytes.", "too_large")
    assert not Customer.objects.exists()


def test_a_form_body_answers_a_json_415_however_many_fields_it_has(
    api_as: Callable[[str], APIClient], settings: Any
):
    # given
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    form = "&".join(f"field{n}=x" for n in range(20))
    # when
    response = api_as("key_full").post(
        CUSTOMERS, form, content_type="application/x-www-form-urlencoded"
    )
    # then
    assert response.status_code == 415
    assert shape_of(response)["code"] == "unsupported_media_type"
    assert not Customer.objects.exists()


def test_json_nested_too_deeply_answers_400(api_as: Callable[[str], APIClient]):
    # given
    body = "[" * 100_000 + "]" * 100_000
    # when
    response = api_as("key_full").post(CUSTOMERS, body, content_type="application/json")
    # then
    assert response.status_code == 400
    assert shape_of(response) == error("The JSON body is nested too deeply.", "parse_error")


def test_malformed_json_answers_400(api_as: Callable[[str], APIClient]):
    # when
    response = api_as("key_full").post(CUSTOMERS, "{", content_type="application/json")
    # then
    assert response.status_code == 400
    assert shape_of(response)["code"] == "parse_error"


@pytest.mark.parametrize("url", [CUSTOMERS, "/api/v1/orders/"])
@pytest.mark.parametrize("offset", ["+16:00", "-23:59", "+00:00", "Z"])
def test_date_filters_take_any_iso_offset(
    api_as: Callable[[str], APIClient], url: str, offset: str
):
    # when
    response = api_as("key_full").get(url, {"created_after": f"2026-01-01T00:00:00{offset}"})
    # then
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("url", [CUSTOMERS, "/api/v1/orders/"])
def test_a_date_filter_that_is_not_a_date_answers_400(api_as: Callable[[str], APIClient], url: str):
    # when
    response = api_as("key_full").get(url, {"created_after": "yesterday"})
    # then
    assert response.status_code == 400
    assert list(shape_of(response)["extra"]["fields"]) == ["created_after"]


@pytest.mark.parametrize("page_size", ["0", "-5", "abc", "201", "1.5", "\u0661\u0660"])
def test_a_page_size_out_of_range_answers_400_with_the_range(
    api_as: Callable[[str], APIClient], page_size: str
):
    # when
    response = api_as("key_full").get(CUSTOMERS, {"page_size": page_size})
    # then
    assert response.status_code == 400
    assert shape_of(response) == invalid(page_size=["A whole number from 1 to 200."])


@pytest.mark.parametrize("page", ["0", "-1", "abc"])
def test_a_page_that_is_not_a_page_number_answers_400(
    api_as: Callable[[str], APIClient], page: str
):
    # when
    response = api_as("key_full").get(CUSTOMERS, {"page": page})
    # then
    assert response.status_code == 400
    assert shape_of(response)["extra"]["fields"] == {"page": ["A page number from 1."]}


def test_a_page_past_the_last_answers_404(api_as: Callable[[str], APIClient]):
    # when
    response = api_as("key_full").get(CUSTOMERS, {"page": "2"})
    # then
    assert response.status_code == 404
    assert shape_of(response)["code"] == "not_found"


def test_the_largest_page_size_is_served(api_as: Callable[[str], APIClient], customer: Any):
    # when
    response = api_as("key_full").get(CUSTOMERS, {"page_size": "200"})
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 1
