"""The Django admin is for superusers only, and its audit and event rows are read-only for
everyone: their history is written by the services that make each change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from crm.models import Interaction, Subscriber, SubscriberEvent
from crm.services import account_update
from crm.tests.factories import AccountFactory, CustomerFactory, SubscriberFactory, UserFactory
from orders.inventory.models import InventoryEvent
from orders.inventory.services import device_items_add
from orders.lines import line_suspend
from orders.models import OrderEvent
from orders.tests.factories import DeviceFactory, PricePlanFactory

pytestmark = pytest.mark.django_db

STAFF_ROLES = ["csr", "supervisor", "admin"]
EVENT_MODELS = {
    "audit": (AuditEvent, "common", "auditevent"),
    "subscriber": (SubscriberEvent, "crm", "subscriberevent"),
    "order": (OrderEvent, "orders", "orderevent"),
    "inventory": (InventoryEvent, "orders", "inventoryevent"),
}


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def staff(request):
    """A persona of each staff role, with staff status (as back-office users often have)."""

    def make(role):
        user = request.getfixturevalue(role)
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        return user

    return make


@pytest.fixture
def history(csr, admin):
    """One row of each kind of history: an audited credit limit change, a suspended line's
    subscriber and order events, and a device unit's inventory event."""
    account = AccountFactory(credit_limit_amount=Decimal("100"))
    account_update(account=account, actor=admin, credit_limit_amount="250", reason="Loyal")
    line = SubscriberFactory(account=account, status="active")
    line_suspend(subscriber=line, actor=csr, reason="Lost phone", channel="console")
    device_items_add(device=DeviceFactory(), actor=admin, serials=["SN-0001"])
    return {
        name: model.objects.order_by("pk").first() for name, (model, _, _) in EVENT_MODELS.items()
    }


def admin_url(name, *args):
    return reverse(f"admin:{name}", args=args)


def counts() -> dict[str, int]:
    return {name: model.objects.count() for name, (model, _, _) in EVENT_MODELS.items()}


# --- staff who are not superusers ---------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_who_are_not_superusers_get_no_admin(client, staff, role):
    # given
    client.force_login(staff(role))
    # when
    index = client.get(admin_url("index"))
    login = client.get(index["Location"])
    changelist = client.get(admin_url("crm_account_changelist"))
    # then
    assert index.status_code == 302
    assert index["Location"] == f"{admin_url('login')}?next=/admin/"
    assert login.status_code == 403
    assert changelist.status_code == 302
    assert changelist["Location"].startswith(admin_url("login"))


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_nothing_staff_post_to_the_admin_changes_anything(client, staff, role, superuser):
    # given
    user = staff(role)
    customer = CustomerFactory()
    account = AccountFactory(customer=customer, credit_limit_amount=Decimal("100"))
    client.force_login(user)
    # when: a backdated note under someone else's name, and a credit limit raised
    note = client.post(
        admin_url("crm_interaction_add"),
        {
            "customer": customer.pk,
            "kind": "note",
            "direction": "inbound",
            "subject": "Promised a refund",
            "body": "Signed off by the manager",
            "author": superuser.pk,
            "created_at_0": "2020-01-01",
            "created_at_1": "09:00:00",
        },
    )
    limit = client.post(
        admin_url("crm_account_change", account.pk),
        {
            "number": account.number,
            "customer": customer.pk,
            "currency": "GBP",
            "payment_type": "postpaid",
            "bill_cycle_day": "1",
            "credit_limit_amount": "99999",
            "status": "active",
        },
    )
    # then
    assert (note.status_code, limit.status_code) == (302, 302)
    assert note["Location"].startswith(admin_url("login"))
    assert not Interaction.objects.exists()
    account.refresh_from_db()
    assert account.credit_limit_amount == Decimal("100.0000")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_admin_sign_in_form_lets_no_staff_member_in(client, staff, role):
    # given: a staff member who is signed in, posting their own password to the admin's form
    user = staff(role)
    client.force_login(user)
    # when
    response = client.post(
        admin_url("login"), {"username": user.email, "password": "correct-horse-battery-staple"}
    )
    # then
    assert response.status_code == 403
    assert client.get(admin_url("index")).status_code == 302


def test_anonymous_visitors_are_sent_to_the_sites_sign_in(client, db):
    # when
    index = client.get(admin_url("index"))
    login = client.get(index["Location"])
    # then
    assert login.status_code == 302
    assert login["Location"] == "/accounts/login/?next=/admin/"


def test_a_foreign_next_is_not_followed(client, superuser):
    # given
    client.force_login(superuser)
    # when
    response = client.get(admin_url("login"), {"next": "https://evil.example/"})
    # then
    assert response["Location"] == admin_url("index")


# --- superusers ---------------------------------------------------------------------------------


def test_a_superuser_opens_the_admin_and_reads_every_kind_of_history(client, superuser, history):
    # given
    client.force_login(superuser)
    # when
    index = client.get(admin_url("index"))
    pages = {
        name: client.get(admin_url(f"{app}_{model}_changelist"))
        for name, (_, app, model) in EVENT_MODELS.items()
    }
    rows = {
        name: client.get(admin_url(f"{app}_{model}_change", history[name].pk))
        for name, (_, app, model) in EVENT_MODELS.items()
    }
    # then
    assert index.status_code == 200
    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(
        EVENT_MODELS, 200
    )
    assert {name: row.status_code for name, row in rows.items()} == dict.fromkeys(EVENT_MODELS, 200)
    assert all('name="_save"' not in row.content.decode() for row in rows.values())
    assert "credit_limit_amount" in rows["audit"].content.decode()


@pytest.mark.parametrize("kind", list(EVENT_MODELS))
def test_a_superuser_cannot_add_change_or_delete_history(client, superuser, history, kind):
    # given
    model, app, name = EVENT_MODELS[kind]
    row = history[kind]
    before = model.objects.filter(pk=row.pk).values().get()
    client.force_login(superuser)
    # when
    add_page = client.get(admin_url(f"{app}_{name}_add"))
    add = client.post(admin_url(f"{app}_{name}_add"), {"reason": "Invented", "action": "x"})
    change = client.post(
        admin_url(f"{app}_{name}_change", row.pk), {"reason": "Rewritten", "action": "x"}
    )
    delete_page = client.get(admin_url(f"{app}_{name}_delete", row.pk))
    delete = client.post(admin_url(f"{app}_{name}_delete", row.pk), {"post": "yes"})
    bulk_delete = client.post(
        admin_url(f"{app}_{name}_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    # then
    assert [add_page.status_code, add.status_code, change.status_code] == [403, 403, 403]
    assert [delete_page.status_code, delete.status_code] == [403, 403]
    assert bulk_delete.status_code == 200
    assert model.objects.filter(pk=row.pk).values().get() == before
    assert counts() == {"audit": 1, "subscriber": 1, "order": 4, "inventory": 1}


def test_a_superuser_cannot_delete_a_line_and_with_it_its_history(client, superuser, csr):
    # given: a line with a status change and nothing else holding it
    line = SubscriberFactory(status="active")
    SubscriberEvent.objects.create(
        subscriber=line,
        old_status="pending",
        new_status="active",
        actor=csr,
        reason="Activated",
        created_at=timezone.now(),
    )
    client.force_login(superuser)
    # when
    page = client.get(admin_url("crm_subscriber_delete", line.pk))
    response = client.post(admin_url("crm_subscriber_delete", line.pk), {"post": "yes"})
    # then lines are never deleted here: not the page, not the post
    assert page.status_code == 403
    assert response.status_code == 403
    assert Subscriber.objects.filter(pk=line.pk).exists()
    assert SubscriberEvent.objects.filter(subscriber=line).count() == 1


@pytest.mark.parametrize(
    ("url_name", "factory"),
    [
        ("crm_account_change", "account"),
        ("crm_customer_change", "customer"),
        ("crm_subscriber_change", "line"),
        ("orders_priceplan_change", "plan"),
    ],
)
def test_a_superuser_reads_business_records_but_changes_them_only_through_the_services(
    client, superuser, url_name, factory
):
    # given: the admin is a window, not a second door (changes are audited in their services)
    account = AccountFactory(credit_limit_amount=Decimal("100"))
    records = {
        "account": account,
        "customer": account.customer,
        "line": SubscriberFactory(account=account),
        "plan": PricePlanFactory(),
    }
    record = records[factory]
    client.force_login(superuser)
    # when
    page = client.get(admin_url(url_name, record.pk))
    changed = client.post(admin_url(url_name, record.pk), {"credit_limit_amount": "999"})
    # then
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert changed.status_code == 403
    account.refresh_from_db()
    assert account.credit_limit_amount == Decimal("100")
