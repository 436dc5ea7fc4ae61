"""The demo stock: a pool of numbers and a batch of SIMs, loaded any number of times."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from billing.balances.models import Bucket
from billing.balances.services import ledger_mismatches
from crm.management.demo import demo_load
from crm.models import Customer, Subscriber, User
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


def test_demo_stock_knows_every_demo_lines_number_and_sim_as_what_they_are(db):
    # given the demo operator with its lines, partners and users
    demo_load(customers=60)
    admin = User.objects.get(email="admin@demo.example")
    # when it is loaded again
    counts = (Msisdn.objects.count(), SimCard.objects.count(), InventoryEvent.objects.count())
    demo_load(customers=60)
    inventory_demo_ensure(admin)
    # then nothing is added twice ...
    assert (
        Msisdn.objects.count(),
        SimCard.objects.count(),
        InventoryEvent.objects.count(),
    ) == counts
    # ... every live line's number and SIM are assigned in the stock records, with an event
    live = Subscriber.objects.exclude(status="terminated")
    assert live.count() > 0
    for line in live:
        assert Msisdn.objects.get(number=line.msisdn).status == "assigned"
        sim = SimCard.objects.get(iccid=line.iccid)
        assert (sim.status, sim.imsi) == ("assigned", line.imsi)
        assert InventoryEvent.objects.filter(sim=sim, new_status="assigned").exists()
    # ... a terminated line's SIM is blocked and its number rests or is free again
    for line in Subscriber.objects.filter(status="terminated"):
        assert SimCard.objects.get(iccid=line.iccid).status == "blocked"
        assert Msisdn.objects.get(number=line.msisdn).status in ("quarantined", "available")
    # ... and the pool never offers a live line's number or SIM
    for_sale = Msisdn.objects.filter(status="available").values("number")
    assert not live.filter(msisdn__in=for_sale).exists()
    in_stock = SimCard.objects.filter(status__in=("in_stock", "allocated")).values("iccid")
    assert not live.filter(iccid__in=in_stock).exists()
    assert SimCard.objects.filter(partner__code="alpha", status="allocated").count() == 100


def test_demo_customers_kyc_status_follows_their_documents(db):
    # when
    demo_load(customers=60)
    # then a verified customer has an accepted document, a pending one a document waiting for
    # review, a rejected one only rejected documents
    for customer in Customer.objects.prefetch_related("kyc_documents"):
        statuses = {document.status for document in customer.kyc_documents.all()}
        expected = {"verified": {"accepted"}, "pending": {"submitted"}, "rejected": {"rejected"}}
        assert statuses == expected[customer.kyc_status], customer


def test_each_live_demo_line_holds_its_plans_allowances_and_its_history_reads_true(db):
    # when
    demo_load(customers=60)
    grants = Bucket.objects.count()
    demo_load(customers=60)
    # then every active or suspended line holds each allowance of its plan, once
    assert Bucket.objects.count() == grants
    assert ledger_mismatches() == []
    # every live prepaid line holds one main balance, which its demo usage is debited from
    prepaid = Subscriber.objects.filter(
        status__in=("active", "suspended"), account__payment_type="prepaid"
    )
    assert prepaid.exists()
    assert {Bucket.objects.filter(subscriber=line, kind="main").count() for line in prepaid} == {1}
    now = timezone.now()
    for line in Subscriber.objects.filter(status__in=("active", "suspended")).select_related(
        "plan"
    ):
        held = sorted(
            (grant.service, grant.scope, grant.quantity)
            for grant in Bucket.objects.filter(subscriber=line, valid_until__gt=now)
        )
        assert held == sorted(
            (a.service, a.scope, a.quantity) for a in line.plan.allowances.all()
        ), line
        assert line.plan_started_on == line.created_at.date()
    # a line that is not live holds nothing, and a suspended or terminated line was active first
    assert not Bucket.objects.filter(subscriber__status__in=("terminated", "pending")).exists()
    for line in Subscriber.objects.filter(status__in=("suspended", "terminated")):
        history = list(
            line.events.order_by("created_at", "pk").values_list("old_status", "new_status")
        )
        assert history == [("", "active"), ("active", line.status)], line
