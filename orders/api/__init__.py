"""REST API v1 for orders (mounted at /api/v1/orders/), in the style of crm.api: a plain
APIView per URL, one method per operation. Orders placed here record the "api" channel."""
