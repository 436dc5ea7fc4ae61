"""The orders API in the published OpenAPI schema."""

from __future__ import annotations

import yaml
from django.test import Client

ORDER_PATHS = {
    "/api/v1/orders/": {"get": "order_list", "post": "order_create"},
    "/api/v1/orders/{public_id}/": {"get": "order_retrieve"},
    "/api/v1/orders/{public_id}/submit/": {"post": "order_submit"},
    "/api/v1/orders/{public_id}/cancel/": {"post": "order_cancel"},
}


def test_schema_documents_every_order_operation(client: Client, db: None):
    # when
    schema = yaml.safe_load(client.get("/api/schema/").content)
    # then
    paths = schema["paths"]
    assert {
        path: {
            method: op["operationId"]
            for method, op in paths[path].items()
            if method != "parameters"
        }
        for path in ORDER_PATHS
    } == ORDER_PATHS
    assert set(paths["/api/v1/orders/{public_id}/cancel/"]["post"]["responses"]) == {
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
    assert set(paths["/api/v1/orders/"]["get"]["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "406",
        "429",
    }
    assert {p["name"] for p in paths["/api/v1/orders/"]["get"]["parameters"]} >= {
        "customer",
        "subscriber",
        "type",
        "status",
        "created_after",
        "created_before",
        "page",
    }
    create = paths["/api/v1/orders/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}


def test_schema_describes_the_create_body_of_each_order_type(client: Client, db: None):
    # when
    schema = yaml.safe_load(client.get("/api/schema/").content)
    # then: one body per type, told apart by `type`
    components = schema["components"]["schemas"]
    body = components["OrderCreateRequest"]
    assert body["discriminator"]["propertyName"] == "type"
    mapping = {
        order_type: ref.rsplit("/", 1)[1]
        for order_type, ref in body["discriminator"]["mapping"].items()
    }
    assert mapping == {
        "new_connection": "OrderNewConnectionRequest",
        "plan_change": "OrderPlanChangeRequest",
        "add_on": "OrderAddOnRequest",
        "sim_swap": "OrderSimSwapRequest",
        "activate": "OrderServiceChangeRequest",
        "suspend": "OrderServiceChangeRequest",
        "resume": "OrderServiceChangeRequest",
        "terminate": "OrderServiceChangeRequest",
    }
    assert set(components["OrderNewConnectionRequest"]["required"]) == {
        "type",
        "account",
        "plan",
        "iccid",
    }
    quote = components["OrderQuote"]["properties"]
    assert set(quote) == {"one_time_total", "recurring_total", "proration_total", "due_now"}
