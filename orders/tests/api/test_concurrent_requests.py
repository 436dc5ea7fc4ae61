"""Two sales of one number through the API at the same instant: one order, one reservation."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections
from rest_framework.test import APIClient

from crm.tests.factories import AccountFactory, UserFactory
from orders.inventory.models import Msisdn, SimCard
from orders.models import Order
from orders.tests.factories import PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_for_one_number_place_one_order():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given two CSRs selling the same golden number to two customers
    csrs = [UserFactory(), UserFactory()]
    for csr in csrs:
        csr.groups.add(Group.objects.get(name="CSR"))
    plan = PricePlanFactory()
    MsisdnFactory(number="+447777000001", category="golden")
    bodies = [
        {
            "type": "new_connection",
            "account": str(AccountFactory().public_id),
            "plan": str(plan.public_id),
            "msisdn": "07777 000001",
            "iccid": SimCardFactory().iccid,
        }
        for _ in csrs
    ]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def sell(index: int) -> None:
        client = APIClient()
        client.force_authenticate(csrs[index])
        barrier.wait()
        statuses.append(client.post("/api/v1/orders/", bodies[index], format="json").status_code)
        connections.close_all()

    # when
    threads = [threading.Thread(target=sell, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one sale holds the number; the other was refused and holds nothing
    assert sorted(statuses)[0] == 201
    assert sorted(statuses)[1] in (409, 422)
    assert Order.objects.count() == 1
    number = Msisdn.objects.get(number="+447777000001")
    assert (number.status, number.reservation_ref) == ("reserved", Order.objects.get().number)
    assert SimCard.objects.filter(status="reserved").count() == 1
