"""The published OpenAPI schema and its Swagger UI, served without any outside host."""

from __future__ import annotations

import re

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

# Lines are connected by new-connection orders (POST /api/v1/orders/), not here.
API_PATHS = {
    "/api/v1/customers/": {"get", "post"},
    "/api/v1/customers/{public_id}/": {"get", "patch"},
    "/api/v1/accounts/": {"get", "post"},
    "/api/v1/accounts/{public_id}/": {"get", "patch"},
    "/api/v1/subscribers/": {"get"},
    "/api/v1/subscribers/{public_id}/": {"get"},
    "/api/v1/subscribers/{public_id}/activate/": {"post"},
    "/api/v1/subscribers/{public_id}/suspend/": {"post"},
    "/api/v1/subscribers/{public_id}/resume/": {"post"},
    "/api/v1/subscribers/{public_id}/terminate/": {"post"},
}


def test_schema_lists_every_operation_with_its_own_serializers(client: Client, db: None):
    # when
    response = client.get("/api/schema/")
    # then
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    assert {path: set(paths.get(path, {})) & {"get", "post", "patch"} for path in API_PATHS} == (
        API_PATHS
    )
    assert {
        operation["operationId"]
        for path in API_PATHS
        for method, operation in paths[path].items()
        if method in ("get", "post", "patch")
    } == {
        "customer_list",
        "customer_create",
        "customer_retrieve",
        "customer_update",
        "account_list",
        "account_create",
        "account_retrieve",
        "account_update",
        "subscriber_list",
        "subscriber_retrieve",
        "subscriber_activate",
        "subscriber_suspend",
        "subscriber_resume",
        "subscriber_terminate",
    }
    assert "SubscriberCreateRequest" not in schema["components"]["schemas"]
    create = paths["/api/v1/accounts/"]["post"]
    assert create["operationId"] == "account_create"
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AccountCreateRequest"
    }
    listing = paths["/api/v1/subscribers/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "msisdn",
        "iccid",
        "imsi",
        "status",
        "account",
        "page",
        "page_size",
    }
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedSubscriberList"
    }
    detail = paths["/api/v1/subscribers/{public_id}/"]["get"]
    assert detail["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SubscriberDetail"
    }
    assert {"plan", "plan_started_on", "addons", "allowances"} <= set(
        schema["components"]["schemas"]["SubscriberDetail"]["properties"]
    )
    suspend = paths["/api/v1/subscribers/{public_id}/suspend/"]["post"]
    assert set(suspend["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "406",
        "409",
        "413",
        "415",
        "422",
        "429",
    }
    assert "Retry-After" in suspend["responses"]["429"]["headers"]
    assert suspend["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SubscriberStatusChangeRequest"
    }
    assert suspend["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SubscriberChange"
    }
    assert "order" in schema["components"]["schemas"]["SubscriberChange"]["properties"]
    assert schema["components"]["schemas"]["Money"]["properties"]["amount"]["type"] == "string"
    assert "ApiKeyAuth" in schema["components"]["securitySchemes"]


def test_schema_never_shows_integer_primary_keys(client: Client, db: None):
    # when
    schema = yaml.safe_load(client.get("/api/schema/").content)
    # then
    for name, component in schema["components"]["schemas"].items():
        assert "id" not in component.get("properties", {}), name
        assert "pk" not in component.get("properties", {}), name


def test_swagger_ui_is_served_from_this_server_only(client: Client, db: None):
    # when
    response = client.get("/api/docs/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""<(?:script|link)[^>]*(?:src|href)=["']([^"']+)["']""", html)
    assert assets, "the page loads its scripts and styles"
    assert all(not re.match(r"^(https?:)?//", url) for url in assets), assets
    assert not re.search(r"https?://(?!testserver)", html)
    assert "<script>" not in html  # the start-up script is a file too (the CSP refuses inline)
    assert "<style" not in html
    own_script = "/api/docs/?script="
    assert own_script in assets
    script = client.get(own_script)
    assert script.status_code == 200
    assert script["Content-Type"] == "application/javascript"
    assert b"SwaggerUIBundle(" in script.content
    for url in set(assets) - {own_script}:  # each one ships with the project's packages
        assert url.startswith(settings.STATIC_URL), url
        assert finders.find(url.removeprefix(settings.STATIC_URL).split("?")[0]), url


@pytest.mark.parametrize(
    "path",
    ["/api/v1/", "/api/v1/nothing-here/", "/api/v1/subscribers/not-a-uuid/suspend/"],
)
def test_unknown_api_urls_answer_404_in_the_error_shape(path, client: Client, db: None):
    # when
    response = client.get(path)
    # then
    assert response.status_code == 404
    assert response.json() == {
        "message": "Not found.",
        "code": "not_found",
        "extra": {"fields": {}},
    }
