"""REST API v1 for orders (mounted at /api/v1/orders/), in the style of crm.api.

One APIView per operation. Each one parses input with its nested InputSerializer, fetches
through a scoped selector (someone else's order answers 404), checks the write permission only
then (so a stranger cannot learn that an order exists), calls one service and renders its
nested OutputSerializer. Errors have the one shape of common.api.exception_handler; orders
placed here record the "api" channel.
"""

from __future__ import annotations

from orders.api.orders import (
    OrderCancelApi,
    OrderCreateApi,
    OrderDetailApi,
    OrderListApi,
    OrderSubmitApi,
)

__all__ = [
    "OrderCancelApi",
    "OrderCreateApi",
    "OrderDetailApi",
    "OrderListApi",
    "OrderSubmitApi",
]
