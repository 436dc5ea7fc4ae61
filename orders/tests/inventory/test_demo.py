"""The demo stock: a pool of numbers and a batch of SIMs, loaded any number of times."""

from __future__ import annotations

from decimal import Decimal

from crm.management.demo import demo_load
from crm.models import Subscriber, User
from crm.tests.factories import PartnerFactory
from orders.inventory.demo import inventory_demo_ensure
from orders.inventory.models import InventoryEvent, Msisdn, SimBatch, SimCard


def test_demo_stock_loads_once_however_often_it_runs(db, actor):
    # when
    inventory_demo_ensure(actor)
    inventory_demo_ensure(actor)
    # then
    assert Msisdn.objects.filter(category="standard").count() == 2000
    assert Msisdn.objects.filter(status="available").count() == Msisdn.objects.count() == 2007
    golden = Msisdn.objects.get(number="+447777777777")
    assert (golden.category, golden.price_amount, golden.currency) == (
        "golden",
        Decimal("50.00"),
        "GBP",
    )
    assert SimBatch.objects.count() == 1
    assert SimCard.objects.filter(status="in_stock").count() == 500
    assert InventoryEvent.objects.count() == 2007 + 500


def test_demo_sims_go_to_the_alpha_shop_once_it_exists(db, actor):
    # given
    inventory_demo_ensure(actor)
    alpha = PartnerFactory(code="alpha", name="Alpha Phones")
    # when
    inventory_demo_ensure(actor)
    inventory_demo_ensure(actor)
    # then
    assert SimCard.objects.filter(partner=alpha, status="allocated").count() == 100
    assert SimCard.objects.filter(status="in_stock").count() == 400


def test_demo_stock_never_offers_what_a_demo_line_has(db):
    # given: the demo operator with its lines, partners and users
    demo_load(customers=30)
    admin = User.objects.get(email="admin@demo.example")
    # when
    inventory_demo_ensure(admin)
    # then
    lines = Subscriber.objects.all()
    assert lines.count() == 30
    assert not lines.filter(msisdn__in=Msisdn.objects.values("number")).exists()
    assert not lines.filter(iccid__in=SimCard.objects.values("iccid")).exists()
    assert not lines.filter(imsi__in=SimCard.objects.values("imsi")).exists()
    assert SimCard.objects.filter(partner__code="alpha", status="allocated").count() == 100
