"""Orders API (mounted at /api/v1/orders/): one APIView per operation, routed by HTTP method.

Any other URL below it (a malformed public_id included) falls through to the catch-all of
crm.api_urls and answers 404 in the error shape.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from crm.api.base import MethodRouter
from orders import api

app_name = "orders-api"

urlpatterns: list[URLPattern] = [
    path(
        "",
        MethodRouter.serving(get=api.OrderListApi, post=api.OrderCreateApi),
        name="order-list",
    ),
    path("<uuid:public_id>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:public_id>/submit/", api.OrderSubmitApi.as_view(), name="order-submit"),
    path("<uuid:public_id>/cancel/", api.OrderCancelApi.as_view(), name="order-cancel"),
]
