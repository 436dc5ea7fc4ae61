"""The audit log page: who may read it, what each row shows, its filters and its pages."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from common.audit import audit_record
from common.models import AuditEvent
from crm.services import account_update
from crm.tests.factories import AccountFactory, UserFactory
from orders.tests.factories import AddOnFactory, DeviceFactory

URL = reverse("crm:audit-log")
ROLES = [
    "csr",
    "supervisor",
    "admin",
    "reseller_a",
    "reseller_b",
    "subscriber",
    "other_subscriber",
    "anonymous",
]
READERS = {"supervisor", "admin"}


def sign_in_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def event(actor, instance, action="updated", *, at, changes=None, reason=""):
    row = audit_record(
        actor=actor, instance=instance, action=action, changes=changes or {}, reason=reason
    )
    AuditEvent.objects.filter(pk=row.pk).update(created_at=at)
    return row


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def as_supervisor(client, supervisor):
    client.force_login(supervisor)
    return client


def shown(response) -> list[int]:
    return [row.pk for row in response.context["page"].object_list]


@pytest.fixture
def changes(csr, admin):
    """Three changes: an account's credit limit (by the CSR), an add-on and a device retired
    (by the admin), on three days."""
    account = AccountFactory(number="ACC-0000042")
    return {
        "limit": event(
            csr,
            account,
            at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
            changes={"credit_limit_amount": ["100", "250"]},
            reason="Six months paid on time",
        ),
        "addon": event(
            admin,
            AddOnFactory(name="EU Roaming 5GB"),
            "retired",
            at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            changes={"status": ["active", "retired"]},
        ),
        "device": event(
            admin,
            DeviceFactory(name="HomeHub 4G", sku="RTR-4G-100"),
            "retired",
            at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
            changes={"status": ["active", "retired"]},
        ),
    }


# --- role matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_audit_log_opens_only_for_those_who_may_read_it(db, client, request, role, changes):
    # given
    sign_in_as(client, request, role)
    before = AuditEvent.objects.count()
    # when
    response = client.get(URL)
    # then
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response.status_code == (200 if role in READERS else 403)
    assert AuditEvent.objects.count() == before
    if response.status_code != 200:
        assert "Six months paid on time" not in response.content.decode()


def test_a_back_office_user_without_the_audit_permission_gets_403(client, changes):
    # given
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="access_backoffice"))
    client.force_login(user)
    # when
    response = client.get(URL)
    home = client.get(reverse("crm:backoffice-home"))
    # then
    assert response.status_code == 403
    assert URL not in home.content.decode()


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_audit_log_cannot_be_posted_to(client, request, role, changes):
    # given
    sign_in_as(client, request, role)
    # when
    response = client.post(URL, {"kind": "crm.account"})
    # then
    assert response.status_code == 405
    assert AuditEvent.objects.count() == 3


# --- what it shows ----------------------------------------------------------------------------


def test_the_log_lists_changes_newest_first_with_who_what_when_and_why(as_admin, changes):
    # when
    response = as_admin.get(URL)
    # then
    assert shown(response) == [changes["device"].pk, changes["addon"].pk, changes["limit"].pk]
    html = response.content.decode()
    assert "ACC-0000042" in html
    assert "credit limit amount:</span> 100 → 250" in html
    assert "Six months paid on time" in html
    assert "csr@example.com" in html
    assert "Casey Rep" in html
    assert "1 Mar 2026" in html
    assert "HomeHub 4G (RTR-4G-100)" in html


def test_a_real_change_appears_in_the_log(as_admin, supervisor):
    # given: a credit limit raised through the service
    account = AccountFactory(credit_limit_amount=Decimal("100.0000"))
    account_update(account=account, actor=supervisor, credit_limit_amount="250", reason="Loyal")
    # when
    response = as_admin.get(URL)
    # then
    [row] = response.context["page"].object_list
    assert (row.actor, row.changes, row.reason) == (
        supervisor,
        {"credit_limit_amount": ["100", "250"]},
        "Loyal",
    )


def test_a_supervisor_reads_the_log_from_the_console(as_supervisor, changes):
    # when
    response = as_supervisor.get(URL)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("crm:console-home") in html  # the console's navigation, not the back office's
    assert reverse("catalog:home") not in html
    assert f'href="{URL}"' in html


def test_the_back_office_nav_links_to_the_log(as_admin):
    # when
    response = as_admin.get(reverse("crm:backoffice-home"))
    # then
    assert f'href="{URL}"' in response.content.decode()


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "crm.account"}, ["limit"]),
        ({"kind": "orders.device"}, ["device"]),
        ({"actor": "CSR@example"}, ["limit"]),
        ({"actor": "admin@"}, ["device", "addon"]),
        ({"action": "retired"}, ["device", "addon"]),
        ({"action": "updated"}, ["limit"]),
        ({"date_from": "2026-03-02"}, ["device", "addon"]),
        ({"date_to": "2026-03-02"}, ["addon", "limit"]),
        ({"date_from": "2026-03-02", "date_to": "2026-03-02"}, ["addon"]),
        ({"kind": "orders.addon", "actor": "csr"}, []),
        ({"kind": "", "actor": "", "action": "", "date_from": "", "date_to": ""}, None),
    ],
)
def test_the_log_filters(as_admin, changes, query, expected):
    # when
    response = as_admin.get(URL, query)
    # then
    assert response.status_code == 200
    expected = expected if expected is not None else ["device", "addon", "limit"]
    assert shown(response) == [changes[name].pk for name in expected]


def test_the_filter_offers_the_kinds_and_actions_the_log_holds(as_admin, changes):
    # when
    form = as_admin.get(URL).context["form"]
    # then
    assert [label for _, label in form.fields["kind"].choices] == [
        "Every kind",
        "Account",
        "Add on",
        "Device",
    ]
    assert [value for value, _ in form.fields["action"].choices] == ["", "retired", "updated"]


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-03-03", "date_to": "2026-03-01"},
        {"date_from": "yesterday"},
        {"kind": "crm.nothing"},
        {"action": "exploded"},
    ],
)
def test_a_bad_filter_is_named_and_shows_nothing(as_admin, changes, query):
    # when
    response = as_admin.get(URL, query)
    # then
    assert response.status_code == 200
    assert shown(response) == []
    assert "Correct the filter to see changes." in response.content.decode()


def test_the_log_is_paginated_and_keeps_the_filter_across_pages(as_admin, admin):
    # given
    device = DeviceFactory()
    for day in range(1, 3):
        for minute in range(30):
            event(admin, device, at=datetime(2026, 3, day, 9, minute, tzinfo=UTC))
    # when
    first = as_admin.get(URL, {"action": "updated"})
    second = as_admin.get(URL, {"action": "updated", "page": 2})
    # then
    assert len(shown(first)) == 50
    assert len(shown(second)) == 10
    assert set(shown(first)).isdisjoint(shown(second))
    assert 'href="?action=updated&amp;page=2"' in first.content.decode()


def test_an_htmx_filter_answers_only_the_results(as_admin, changes):
    # when
    response = as_admin.get(URL, {"action": "retired"}, headers={"HX-Request": "true"})
    # then
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<h1>" not in html
    assert len(shown(response)) == 2
