"""Machine clients: `Authorization: Api-Key <key>`, limited to the key's permissions."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from common.api_keys import api_key_revoke
from common.models import ApiKey
from crm.models import Customer, Subscriber, SubscriberEvent
from crm.permissions import CrmPerm
from crm.tests.api.conftest import error

CUSTOMERS = "/api/v1/customers/"
NEW_CUSTOMER = {"kind": "business", "company_name": "Northwind Traders"}


def key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def test_a_key_reads_everything_its_permission_allows(issue_key, customer, other_subscriber):
    # given
    client = key_client(issue_key(CrmPerm.VIEW_ANY_CUSTOMER))
    # when
    response = client.get(CUSTOMERS)
    # then
    assert response.status_code == 200
    assert {r["last_name"] for r in response.json()["results"]} == {"Lovelace", "Other"}


def test_a_key_without_manage_customer_gets_403_on_create(issue_key, customer):
    # given
    client = key_client(issue_key(CrmPerm.VIEW_ANY_CUSTOMER))
    # when
    response = client.post(CUSTOMERS, NEW_CUSTOMER, format="json")
    # then
    assert response.status_code == 403
    assert response.json() == error("Your role or API key may not do this.", "permission_denied")
    assert not Customer.objects.filter(company_name="Northwind Traders").exists()


def test_a_key_with_manage_customer_creates(issue_key, db):
    # given
    client = key_client(issue_key(CrmPerm.MANAGE_CUSTOMER))
    # when
    response = client.post(CUSTOMERS, NEW_CUSTOMER, format="json")
    # then
    assert response.status_code == 201
    assert Customer.objects.filter(company_name="Northwind Traders").exists()


def test_a_keys_changes_are_audited_under_its_machine_user(issue_key, line):
    # given
    secret = issue_key(CrmPerm.VIEW_ANY_CUSTOMER, CrmPerm.CHANGE_SUBSCRIBER_STATUS, name="Fraud")
    # when
    response = key_client(secret).post(
        f"/api/v1/subscribers/{line.public_id}/suspend/", {"reason": "Fraud rule 7"}, format="json"
    )
    # then
    assert response.status_code == 200
    event = SubscriberEvent.objects.get(subscriber=line)
    key = ApiKey.objects.get(name="Fraud")
    assert event.actor == key.user
    assert key.last_used_at is not None


def test_a_key_that_may_change_status_but_not_see_the_line_gets_404(issue_key, line):
    # given
    client = key_client(issue_key(CrmPerm.CHANGE_SUBSCRIBER_STATUS))
    # when
    response = client.post(
        f"/api/v1/subscribers/{line.public_id}/suspend/", {"reason": "Fraud rule 7"}, format="json"
    )
    # then
    assert response.status_code == 404
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_revoked_key_gets_401(method, issue_key, admin, customer):
    # given
    secret = issue_key(CrmPerm.VIEW_ANY_CUSTOMER, CrmPerm.MANAGE_CUSTOMER)
    api_key_revoke(api_key=ApiKey.objects.get(name="Mediation"), actor=admin)
    # when
    response = getattr(key_client(secret), method)(CUSTOMERS, NEW_CUSTOMER, format="json")
    # then
    assert response.status_code == 401
    assert response.json() == error(
        "The API key is not valid or was revoked.", "authentication_failed"
    )
    assert response["WWW-Authenticate"] == "Api-Key"
    assert not Customer.objects.filter(company_name="Northwind Traders").exists()


@pytest.mark.parametrize(
    "header",
    ["Api-Key wrong.key", "Api-Key nodot", "Api-Key RIGHT-PREFIX-WRONG-SECRET"],
    ids=["unknown-prefix", "no-dot", "wrong-secret"],
)
def test_a_wrong_key_gets_401(header, issue_key, customer):
    # given
    secret = issue_key(CrmPerm.VIEW_ANY_CUSTOMER, CrmPerm.MANAGE_CUSTOMER)
    header = header.replace("RIGHT-PREFIX-WRONG-SECRET", secret.split(".")[0] + ".not-the-secret")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    # when
    listed = client.get(CUSTOMERS)
    created = client.post(CUSTOMERS, NEW_CUSTOMER, format="json")
    # then
    assert listed.status_code == created.status_code == 401
    assert listed.json() == error(
        "The API key is not valid or was revoked.", "authentication_failed"
    )
    assert not Customer.objects.filter(company_name="Northwind Traders").exists()


def test_no_credentials_get_401(customer):
    # when
    response = APIClient().get(CUSTOMERS)
    # then
    assert response.status_code == 401
    assert response.json() == error(
        "Authentication credentials were not provided.", "not_authenticated"
    )


def test_a_session_write_needs_the_csrf_token(csr, line):
    # given: a browser signed in as a CSR, first without and then with Django's CSRF token
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(csr)
    url = f"/api/v1/subscribers/{line.public_id}/suspend/"
    # when
    refused = client.post(url, {"reason": "Lost phone"}, format="json")
    line.refresh_from_db()
    status_after_refusal = line.status
    token = "abcdefghijklmnopqrstuvwxyzABCDEF"
    client.cookies["csrftoken"] = token
    accepted = client.post(url, {"reason": "Lost phone"}, format="json", HTTP_X_CSRFTOKEN=token)
    # then
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert refused.json()["message"].startswith("CSRF Failed")
    assert status_after_refusal == Subscriber.Status.ACTIVE
    assert accepted.status_code == 200
    line.refresh_from_db()
    assert line.status == Subscriber.Status.SUSPENDED
