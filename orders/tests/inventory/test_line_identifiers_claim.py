"""A line connected outside an order (console onboarding) takes its number and SIM out of stock."""

from __future__ import annotations

import pytest

from common.errors import ApplicationError
from crm.models import Subscriber
from crm.services import subscriber_create
from crm.tests.factories import AccountFactory
from orders.models import Msisdn, SimCard
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory


def connect(csr, number, iccid):
    return subscriber_create(
        account=AccountFactory(), actor=csr, msisdn=number, iccid=iccid, imsi="234100000000042"
    )


def test_stocked_number_and_sim_are_assigned_with_the_line(csr):
    MsisdnFactory(number="+447500000042")
    sim = SimCardFactory()
    connect(csr, "07500 000042", sim.iccid)
    assert Msisdn.objects.get(number="+447500000042").status == "assigned"
    assert SimCard.objects.get(pk=sim.pk).status == "assigned"


@pytest.mark.parametrize(
    ("number_status", "sim_status", "field", "message"),
    [
        ("reserved", "in_stock", "msisdn", "reserved for ORD-00000009"),
        ("quarantined", "in_stock", "msisdn", "quarantine"),
        ("available", "blocked", "iccid", "blocked"),
        ("available", "reserved", "iccid", "reserved for ORD-00000009"),
    ],
)
def test_numbers_and_sims_that_are_not_free_are_refused(
    csr, number_status, sim_status, field, message
):
    MsisdnFactory(number="+447500000042", status=number_status, reservation_ref="ORD-00000009")
    sim = SimCardFactory(status=sim_status, reservation_ref="ORD-00000009")
    with pytest.raises(ApplicationError) as caught:
        connect(csr, "+447500000042", sim.iccid)
    assert message in caught.value.fields[field][0]
    assert not Subscriber.objects.exists()
    assert Msisdn.objects.get(number="+447500000042").status == number_status
    assert SimCard.objects.get(pk=sim.pk).status == sim_status


def test_numbers_the_pool_does_not_know_connect_as_before(csr):
    line = connect(csr, "+447400999111", SimCardFactory.build().iccid)
    assert line.status == "pending"
    assert not Msisdn.objects.exists()
