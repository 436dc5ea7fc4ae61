"""The whole demo operator, across apps: users and partners, the catalog, the stock and the
demo customers with their lines. A door like a view (it sits above every app it calls)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from billing.rating.demo import tariffs_demo_ensure
from billing.usage.demo import usage_demo_ensure
from crm.demo import (
    DEMO_MSISDN_PREFIX,
    demo_customers_count,
    demo_customers_load,
    demo_subscriber_link,
    demo_users_ensure,
)
from crm.models import (
    Account,
    Address,
    Customer,
    Interaction,
    KycDocument,
    Subscriber,
    SubscriberEvent,
)
from orders.catalog.demo import catalog_demo_ensure
from orders.catalog.selectors import plan_pks_by_payment_type
from orders.demo import demo_lines_allowances_ensure, demo_lines_balances_ensure
from orders.inventory.demo import demo_lines_stock_ensure, inventory_demo_ensure
from orders.inventory.models import InventoryEvent, Msisdn, SimCard


def demo_load(*, customers: int) -> dict[str, int]:
    """Bring the demo operator up to `customers` demo customers (idempotent)."""
    users = demo_users_ensure()
    tariffs = tariffs_demo_ensure(users["admin"])  # before the plans, which refer to them
    catalog_demo_ensure(users["admin"], tariffs=tariffs)
    inventory_demo_ensure(users["admin"])
    missing = max(0, customers - demo_customers_count())
    plans = plan_pks_by_payment_type(currency=settings.DEFAULT_CURRENCY)
    added = demo_customers_load(count=missing, users=users, plans=plans)
    demo_subscriber_link(users)
    # The stock records know every demo line's number and SIM, as assigned (or resting).
    demo_lines_stock_ensure(users["admin"], msisdn_prefix=DEMO_MSISDN_PREFIX)
    # ... and each live demo line holds its plan's allowances for the current period.
    demo_lines_allowances_ensure(users["admin"], msisdn_prefix=DEMO_MSISDN_PREFIX)
    # ... and each live prepaid line a main balance, which its usage below is debited from.
    demo_lines_balances_ensure(users["admin"], msisdn_prefix=DEMO_MSISDN_PREFIX)
    # ... and some of them have made calls, sent messages and used data (rated, with rejects).
    usage_demo_ensure(users["admin"], msisdn_prefix=DEMO_MSISDN_PREFIX)
    if connection.vendor == "postgresql" and added > 10_000:
        with connection.cursor() as cursor:
            for model in (
                Customer,
                Address,
                Account,
                Subscriber,
                SubscriberEvent,
                Interaction,
                KycDocument,
                Msisdn,
                SimCard,
                InventoryEvent,
            ):
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    return {"added": added, "total": demo_customers_count()}
