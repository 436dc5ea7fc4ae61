"""Two sales of the same number at the same instant: exactly one wins (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from common.errors import ApplicationError
from crm.models import Subscriber
from crm.services import subscriber_create
from crm.tests.factories import AccountFactory, UserFactory, iccid_for


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sales_of_one_msisdn_leave_one_line():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given
    actor = UserFactory()
    accounts = [AccountFactory(), AccountFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sell(index: int) -> None:
        try:
            barrier.wait()
            subscriber_create(
                account=accounts[index],
                actor=actor,
                msisdn="+447400999000",
                iccid=iccid_for(9000 + index),
                imsi=f"23410000000900{index}",
                reason="New connection",
            )
            outcomes.append("sold")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=sell, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert sorted(outcomes) in (["conflict", "sold"], ["invalid", "sold"])
    assert Subscriber.objects.filter(msisdn="+447400999000").count() == 1
