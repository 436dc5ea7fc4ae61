from __future__ import annotations

import pytest

from crm.models import Customer, Subscriber, SubscriberEvent
from crm.tests.api.conftest import error, invalid, matrix
from crm.tests.factories import AccountFactory, SubscriberFactory, iccid_for

LIST_URL = "/api/v1/subscribers/"


def detail_url(subscriber: Subscriber) -> str:
    return f"/api/v1/subscribers/{subscriber.public_id}/"


def action_url(subscriber: Subscriber, action: str) -> str:
    return f"/api/v1/subscribers/{subscriber.public_id}/{action}/"


@pytest.fixture
def lines(line, other_subscriber, bravo_customer) -> dict[str, Subscriber]:
    """Ada's active line, Olive's suspended one and Bob Bravo's pending one."""
    olive = Customer.objects.get(owner=other_subscriber)
    return {
        "ada": line,
        "olive": SubscriberFactory(
            account__customer=olive, msisdn="+447400222333", status="suspended"
        ),
        "bravo": SubscriberFactory(
            account__customer=bravo_customer,
            status="pending",
            iccid=iccid_for(777),
            imsi="234109990000777",
        ),
    }


# --- list -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=200,
        supervisor=200,
        admin=200,
        reseller_a=200,
        reseller_b=200,
        subscriber=200,
        other_subscriber=200,
        anonymous=401,
        key_full=200,
        key_without=200,
    ),
)
def test_subscriber_list_shows_each_persona_only_their_own(persona, status, api_as, lines):
    # given
    everyone = {"ada", "olive", "bravo"}
    visible = {
        "csr": everyone,
        "supervisor": everyone,
        "admin": everyone,
        "key_full": everyone,
        "reseller_a": {"ada"},
        "reseller_b": {"bravo"},
        "subscriber": {"ada"},
        "other_subscriber": {"olive"},
        "key_without": set(),
    }
    # when
    response = api_as(persona).get(LIST_URL)
    # then
    assert response.status_code == status
    if status == 200:
        found = {row["public_id"] for row in response.json()["results"]}
        assert found == {str(lines[name].public_id) for name in visible[persona]}


def test_subscriber_list_shows_the_msisdn_in_e164_and_identifies_by_public_ids(api_as, line):
    # when
    (row,) = api_as("subscriber").get(LIST_URL).json()["results"]
    # then
    account, customer = line.account, line.account.customer
    assert row == {
        "public_id": str(line.public_id),
        "msisdn": "+447400123456",
        "msisdn_display": "+44 7400 123456",
        "iccid": line.iccid,
        "imsi": line.imsi,
        "status": "active",
        "status_changed_at": None,
        "allowed_transitions": ["suspended", "terminated"],
        "account": {
            "public_id": str(account.public_id),
            "number": account.number,
            "payment_type": "postpaid",
            "status": "active",
        },
        "customer": {
            "public_id": str(customer.public_id),
            "number": customer.number,
            "display_name": "Ada Lovelace",
        },
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


@pytest.mark.parametrize(
    "typed",
    ["07400 123456", "+44 7400 123456", "447400123456", "0044 7400-123456"],
)
def test_subscriber_list_finds_an_msisdn_typed_any_way(typed, api_as, lines):
    # when
    response = api_as("csr").get(LIST_URL, {"msisdn": typed})
    # then
    assert response.status_code == 200
    assert [r["public_id"] for r in response.json()["results"]] == [str(lines["ada"].public_id)]


def test_subscriber_list_refuses_an_msisdn_filter_that_is_not_a_number(api_as, lines):
    # when
    response = api_as("csr").get(LIST_URL, {"msisdn": "abc"})
    # then
    assert response.status_code == 400
    assert response.json() == invalid(msisdn=["'abc' is not a phone number."])


def test_subscriber_list_msisdn_filter_never_widens_the_callers_scope(api_as, lines):
    # when
    response = api_as("subscriber").get(LIST_URL, {"msisdn": "07400 222333"})
    # then
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "suspended"}, {"olive"}),
        ({"status": "pending"}, {"bravo"}),
        ({"imsi": "234109990000777"}, {"bravo"}),
        ({"imsi": "234 109 990 000 777"}, {"bravo"}),
    ],
    ids=lambda v: str(v),
)
def test_subscriber_list_filters(query, expected, api_as, lines):
    # when
    response = api_as("csr").get(LIST_URL, query)
    # then
    assert {r["public_id"] for r in response.json()["results"]} == {
        str(lines[name].public_id) for name in expected
    }


def test_subscriber_list_filters_by_account_and_iccid(api_as, lines):
    # given
    client = api_as("csr")
    olive = lines["olive"]
    spaced_iccid = " ".join(lines["bravo"].iccid[i : i + 4] for i in range(0, 20, 4))
    # when
    by_account = client.get(LIST_URL, {"account": str(olive.account.public_id)})
    by_iccid = client.get(LIST_URL, {"iccid": spaced_iccid})
    # then
    assert [r["public_id"] for r in by_account.json()["results"]] == [str(olive.public_id)]
    assert [r["public_id"] for r in by_iccid.json()["results"]] == [str(lines["bravo"].public_id)]


# --- detail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=200,
        supervisor=200,
        admin=200,
        reseller_a=200,
        reseller_b=404,
        subscriber=200,
        other_subscriber=404,
        anonymous=401,
        key_full=200,
        key_without=404,
    ),
)
def test_subscriber_detail_is_scoped(persona, status, api_as, line):
    # when
    response = api_as(persona).get(detail_url(line))
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json()["msisdn"] == "+447400123456"


# --- create -----------------------------------------------------------------------------------


def _new_line(on_account, **changes) -> dict:
    return {
        "account": str(on_account.public_id),
        "msisdn": "07400 654321",
        "iccid": iccid_for(900_001),
        "imsi": "234100000900001",
        **changes,
    }


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=201,
        supervisor=201,
        admin=201,
        reseller_a=403,
        reseller_b=403,
        subscriber=403,
        other_subscriber=403,
        anonymous=401,
        key_full=201,
        key_without=403,
    ),
)
def test_subscriber_create_needs_manage_customer(persona, status, api_as, line):
    # when
    response = api_as(persona).post(LIST_URL, _new_line(line.account), format="json")
    # then
    assert response.status_code == status
    assert Subscriber.objects.filter(msisdn="+447400654321").exists() is (status == 201)


def test_subscriber_create_answers_a_pending_line_in_e164(api_as, csr, line):
    # when
    response = api_as("csr").post(LIST_URL, _new_line(line.account), format="json")
    # then
    body = response.json()
    assert (body["msisdn"], body["status"], body["account"]["number"]) == (
        "+447400654321",
        "pending",
        line.account.number,
    )
    event = SubscriberEvent.objects.get(subscriber__public_id=body["public_id"])
    assert (event.new_status, event.actor, event.reason) == ("pending", csr, "New connection")


def test_subscriber_create_can_activate_at_once(api_as, line):
    # when
    response = api_as("csr").post(
        LIST_URL, _new_line(line.account, activate=True, reason="Shop sale"), format="json"
    )
    # then
    assert response.status_code == 201
    assert response.json()["status"] == "active"
    created = Subscriber.objects.get(public_id=response.json()["public_id"])
    assert list(created.events.values_list("new_status", "reason")) == [
        ("active", "Shop sale"),
        ("pending", "Shop sale"),
    ]


def test_subscriber_create_with_activation_needs_the_status_permission(api_as, issue_key, line):
    # given: a key that may connect lines and see them, but not change their status
    client = api_as("anonymous")
    key = issue_key("crm.manage_customer", "crm.view_any_customer")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    # when
    response = client.post(LIST_URL, _new_line(line.account, activate=True), format="json")
    # then
    assert response.status_code == 403
    assert response.json() == error(
        "Your role or API key may not activate lines.", "permission_denied"
    )
    assert not Subscriber.objects.filter(msisdn="+447400654321").exists()


BAD_LUHN = iccid_for(900_001)[:-1] + str((int(iccid_for(900_001)[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (
            {"msisdn": "+44 20 7946 0000"},
            {"msisdn": ["'+44 20 7946 0000' is not a mobile number."]},
        ),
        ({"msisdn": "12345"}, {"msisdn": ["'12345' is not a valid phone number."]}),
        (
            {"msisdn": "+33 6 12 34 56 78"},
            {
                "msisdn": [
                    "'+33 6 12 34 56 78' is a number of FR, not of the operator's country (GB)."
                ]
            },
        ),
        (
            {"msisdn": "+447400123456"},
            {"msisdn": ["This MSISDN belongs to another live subscriber."]},
        ),
        (
            {"iccid": BAD_LUHN},
            {"iccid": ["The ICCID's check digit is wrong: check it was typed correctly."]},
        ),
        (
            {"iccid": "LINE-ICCID"},
            {"iccid": ["This SIM (ICCID) belongs to another live subscriber."]},
        ),
        ({"iccid": "8944"}, {"iccid": ["An ICCID has 19 or 20 digits; this has 4."]}),
        ({"imsi": "12345"}, {"imsi": ["An IMSI has exactly 15 digits."]}),
        (
            {"msisdn": "", "iccid": ""},
            {"msisdn": ["This field may not be blank."], "iccid": ["This field may not be blank."]},
        ),
        (
            {"account": "00000000-0000-4000-8000-000000000000"},
            {"account": ["There is no account with this id."]},
        ),
    ],
    ids=[
        "landline",
        "short",
        "foreign",
        "duplicate-msisdn",
        "iccid-luhn",
        "duplicate-iccid",
        "iccid-length",
        "imsi",
        "blank",
        "unknown-account",
    ],
)
def test_subscriber_create_refuses_bad_input_and_writes_nothing(changes, fields, api_as, line):
    # given
    if changes.get("iccid") == "LINE-ICCID":
        changes = {**changes, "iccid": line.iccid}
    # when
    response = api_as("csr").post(LIST_URL, _new_line(line.account, **changes), format="json")
    # then
    assert response.status_code == 400
    assert response.json() == invalid(**fields)
    assert list(Subscriber.objects.all()) == [line]
    assert not SubscriberEvent.objects.exists()


def test_subscriber_create_reuses_a_number_whose_line_was_terminated(api_as, line):
    # given
    line.status = Subscriber.Status.TERMINATED
    line.save(update_fields=["status"])
    # when
    response = api_as("csr").post(
        LIST_URL, _new_line(line.account, msisdn="07400 123456"), format="json"
    )
    # then
    assert response.status_code == 201
    assert Subscriber.objects.filter(msisdn="+447400123456").count() == 2


def test_subscriber_create_on_a_closed_account_is_refused(api_as, customer):
    # given
    closed = AccountFactory(customer=customer, status="closed")
    # when
    response = api_as("csr").post(LIST_URL, _new_line(closed), format="json")
    # then
    assert response.status_code == 400
    assert response.json() == invalid(account=[f"Account {closed.number} is closed."])
    assert not Subscriber.objects.exists()


# --- status changes ---------------------------------------------------------------------------

STATUS_CHANGERS = {
    "csr": 200,
    "supervisor": 200,
    "admin": 200,
    "reseller_a": 403,
    "reseller_b": 404,
    "subscriber": 403,
    "other_subscriber": 404,
    "anonymous": 401,
    "key_full": 200,
    "key_without": 404,
}


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        ("suspend", "active", "suspended"),
        ("resume", "suspended", "active"),
        ("activate", "pending", "active"),
    ],
)
@pytest.mark.parametrize(("persona", "status"), matrix(**STATUS_CHANGERS))
def test_status_change_fetches_in_scope_before_checking_the_permission(
    action, before, after, persona, status, api_as, line
):
    # given
    Subscriber.objects.filter(pk=line.pk).update(status=before)
    # when
    response = api_as(persona).post(
        action_url(line, action), {"reason": "Customer asked"}, format="json"
    )
    # then
    assert response.status_code == status
    line.refresh_from_db()
    assert line.status == (after if status == 200 else before)
    assert SubscriberEvent.objects.filter(subscriber=line).count() == (status == 200)
    if status == 200:
        assert response.json()["status"] == after
    if status == 403:
        assert response.json() == error(
            "Your role or API key may not do this.", "permission_denied"
        )
    if status == 404:
        assert response.json() == error("Not found.", "not_found")


@pytest.mark.parametrize(("persona", "status"), matrix(**{**STATUS_CHANGERS, "csr": 403}))
def test_terminate_needs_the_terminate_permission(persona, status, api_as, line):
    # when
    response = api_as(persona).post(
        action_url(line, "terminate"), {"reason": "Moved abroad"}, format="json"
    )
    # then
    assert response.status_code == status
    line.refresh_from_db()
    assert line.status == ("terminated" if status == 200 else "active")
    assert SubscriberEvent.objects.filter(subscriber=line).exists() is (status == 200)


def test_status_change_is_audited_with_who_and_why(api_as, csr, line):
    # when
    response = api_as("csr").post(
        action_url(line, "suspend"), {"reason": "Phone reported stolen"}, format="json"
    )
    # then
    assert response.json()["allowed_transitions"] == ["active", "terminated"]
    assert response.json()["status_changed_at"] is not None
    event = SubscriberEvent.objects.get(subscriber=line)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        "active",
        "suspended",
        csr,
        "Phone reported stolen",
    )


@pytest.mark.parametrize(
    ("action", "before", "message"),
    [
        ("resume", "active", "+44 7400 123456 is not suspended."),
        ("activate", "active", "+44 7400 123456 is active; it cannot become active."),
        ("suspend", "terminated", "+44 7400 123456 is terminated; it cannot become suspended."),
        ("terminate", "terminated", "+44 7400 123456 is terminated; it cannot become terminated."),
    ],
)
def test_a_status_change_the_line_does_not_allow_answers_409(action, before, message, api_as, line):
    # given
    Subscriber.objects.filter(pk=line.pk).update(status=before)
    # when
    response = api_as("supervisor").post(
        action_url(line, action), {"reason": "Try it"}, format="json"
    )
    # then
    assert response.status_code == 409
    assert response.json() == error(message, "invalid_transition")
    line.refresh_from_db()
    assert line.status == before
    assert not SubscriberEvent.objects.exists()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"reason": ["This field is required."]}),
        ({"reason": "   "}, {"reason": ["This field may not be blank."]}),
        ({"reason": "x" * 201}, {"reason": ["Ensure this field has no more than 200 characters."]}),
    ],
    ids=["missing", "blank", "too-long"],
)
def test_a_status_change_needs_a_reason(payload, fields, api_as, line):
    # when
    response = api_as("csr").post(action_url(line, "suspend"), payload, format="json")
    # then
    assert response.status_code == 400
    assert response.json() == invalid(**fields)
    line.refresh_from_db()
    assert line.status == "active"
    assert not SubscriberEvent.objects.exists()
