"""Two moves at once cannot build a cycle: each checks the tree as the other left it."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from common.errors import ApplicationError
from crm.tests.factories import PartnerFactory, UserFactory
from partners.models import Partner
from partners.services import partner_create, partner_move


def assert_tree_is_whole():
    """Every path is the parent's path plus the partner's code, and every chain of parents
    reaches the top."""
    partners = {p.pk: p for p in Partner.objects.all()}
    for partner in partners.values():
        parent = partners.get(partner.parent_id) if partner.parent_id else None
        assert partner.path == f"{parent.path if parent else ''}{partner.code}/"
        seen = set()
        node = partner
        while node.parent_id is not None:
            assert node.pk not in seen, f"cycle through {node.code}"
            seen.add(node.pk)
            node = partners[node.parent_id]


def first_then_second(first, second, *, hold_seconds=0.5):
    """Run `first` in a thread and keep its transaction open for a moment after it has made its
    change; meanwhile `second` runs in another thread. So the two always overlap, whatever the
    scheduler does. Returns the outcome of each ("done" or the refusal's code), in order."""
    started = threading.Event()
    outcomes: dict[str, str] = {}

    def run(name, change, *, hold) -> None:
        try:
            if hold:
                with transaction.atomic():
                    change()
                    started.set()
                    time.sleep(hold_seconds)  # still uncommitted: its locks are held
            else:
                started.wait(timeout=10)
                change()
            outcomes[name] = "done"
        except ApplicationError as exc:
            outcomes[name] = exc.code
        except Exception as exc:  # a deadlock or a broken constraint: shown in the assertion
            outcomes[name] = type(exc).__name__
        finally:
            started.set()
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=("first", first), kwargs={"hold": True}),
        threading.Thread(target=run, args=("second", second), kwargs={"hold": False}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes["first"], outcomes["second"]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_crossing_moves_leave_one_move_and_no_cycle():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given: two trees, a → a1 and b → b1
    actor = UserFactory()
    a = PartnerFactory(code="a")
    a1 = PartnerFactory(code="a1", parent=a)
    b = PartnerFactory(code="b")
    b1 = PartnerFactory(code="b1", parent=b)
    # when: a goes under b1 while b goes under a1; each is fine alone, together a cycle
    outcomes = first_then_second(
        lambda: partner_move(partner=a, actor=actor, parent=b1),
        lambda: partner_move(partner=b, actor=actor, parent=a1),
    )
    # then: the second saw the first's move and refused
    assert outcomes == ("done", "invalid")
    assert_tree_is_whole()
    assert dict(Partner.objects.values_list("code", "path")) == {
        "b": "b/",
        "b1": "b/b1/",
        "a": "b/b1/a/",
        "a1": "b/b1/a/a1/",
    }


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_partner_created_deep_in_a_subtree_being_moved_moves_with_it():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given: north → shop → kiosk, and east
    actor = UserFactory()
    shop = PartnerFactory(code="shop", parent=PartnerFactory(code="north"))
    kiosk = PartnerFactory(code="kiosk", parent=shop)
    east = PartnerFactory(code="east")
    # when: a stall is created under the kiosk while the shop moves to east; without the tree
    # lock the move's UPDATE would not see the stall, leaving it on the old path
    outcomes = first_then_second(
        lambda: partner_create(actor=actor, code="stall", name="Stall", parent=kiosk),
        lambda: partner_move(partner=shop, actor=actor, parent=east),
    )
    # then
    assert outcomes == ("done", "done")
    assert_tree_is_whole()
    assert Partner.objects.get(code="stall").path == "east/shop/kiosk/stall/"
