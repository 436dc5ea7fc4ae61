from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from common.roles import permissions_from_names
from crm.models import Address, Customer, Interaction
from crm.tests.api.conftest import error, invalid, matrix
from crm.tests.factories import CustomerFactory

LIST_URL = "/api/v1/customers/"


def detail_url(customer: Customer) -> str:
    return f"/api/v1/customers/{customer.public_id}/"


def names(response) -> set[str]:
    return {row["last_name"] for row in response.json()["results"]}


# --- list -------------------------------------------------------------------------------------

EVERYONE = {"Lovelace", "Other", "Bravo", "Dealer"}


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
def test_customer_list_shows_each_persona_only_their_own(
    persona, status, api_as, customer, other_subscriber, bravo_customer, alpha_dealer_customer
):
    # given
    visible = {
        "csr": EVERYONE,
        "supervisor": EVERYONE,
        "admin": EVERYONE,
        "key_full": EVERYONE,
        "reseller_a": {"Lovelace", "Dealer"},
        "reseller_b": {"Bravo"},
        "subscriber": {"Lovelace"},
        "other_subscriber": {"Other"},
        "key_without": set(),
    }
    # when
    response = api_as(persona).get(LIST_URL)
    # then
    assert response.status_code == status
    if status == 200:
        assert names(response) == visible[persona]
        assert response.json()["count"] == len(visible[persona])
    else:
        assert response.json() == error(
            "Authentication credentials were not provided.", "not_authenticated"
        )


def test_customer_list_shows_public_ids_and_numbers_never_pks(api_as, customer):
    # when
    row = api_as("csr").get(LIST_URL).json()["results"][0]
    # then
    assert row["public_id"] == str(customer.public_id)
    assert row["number"] == customer.number
    assert row["display_name"] == "Ada Lovelace"
    assert row["kyc_status"] == "pending"
    assert row["partner"] == {
        "public_id": str(customer.partner.public_id),
        "code": "alpha",
        "name": "Alpha Phones",
    }
    assert "id" not in row
    assert "pk" not in row
    assert row["created_at"]
    assert row["updated_at"]


def test_customer_list_pages(api_as, db):
    # given
    for n in range(3):
        CustomerFactory(last_name=f"Page{n}")
    client = api_as("csr")
    # when
    first = client.get(LIST_URL, {"page_size": 2}).json()
    second = client.get(LIST_URL, {"page_size": 2, "page": 2}).json()
    # then
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"].endswith("page=2&page_size=2")
    assert first["previous"] is None
    assert len(second["results"]) == 1
    assert second["next"] is None
    seen = {r["last_name"] for r in first["results"]} | {r["last_name"] for r in second["results"]}
    assert seen == {"Page0", "Page1", "Page2"}


def test_customer_list_page_past_the_end_answers_404_in_the_error_shape(api_as, customer):
    # when
    response = api_as("csr").get(LIST_URL, {"page": 9})
    # then
    assert response.status_code == 404
    assert response.json() == error("Invalid page.", "not_found")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "business"}, {"Acme Ltd"}),
        ({"kind": "individual"}, {"Ada Lovelace", "Olive Other"}),
        ({"kyc_status": "verified"}, {"Acme Ltd"}),
        ({"email": "ADA@Example.org"}, {"Ada Lovelace"}),
        ({"q": "lov"}, {"Ada Lovelace"}),
        ({"q": "ada lov"}, {"Ada Lovelace"}),
        ({"q": "ac"}, {"Acme Ltd"}),
        ({"q": "zed"}, set()),
    ],
)
def test_customer_list_filters(query, expected, api_as, customer, other_subscriber):
    # given
    CustomerFactory(
        kind="business",
        first_name="",
        last_name="",
        company_name="Acme Ltd",
        kyc_status="verified",
    )
    # when
    response = api_as("csr").get(LIST_URL, query)
    # then
    assert response.status_code == 200
    assert {r["display_name"] for r in response.json()["results"]} == expected


def test_customer_list_filters_by_number_typed_in_lower_case(api_as, customer, other_subscriber):
    # when
    response = api_as("csr").get(LIST_URL, {"number": customer.number.lower()})
    # then
    assert [r["public_id"] for r in response.json()["results"]] == [str(customer.public_id)]


def test_customer_list_filters_by_creation_time(api_as, db):
    # given
    now = timezone.now()
    CustomerFactory(last_name="Old", created_at=now - timedelta(days=30))
    CustomerFactory(last_name="Recent", created_at=now - timedelta(days=2))
    CustomerFactory(last_name="Today", created_at=now)
    week_ago = (now - timedelta(days=7)).isoformat()
    yesterday = (now - timedelta(days=1)).isoformat()
    client = api_as("csr")
    # when
    after = client.get(LIST_URL, {"created_after": week_ago})
    window = client.get(LIST_URL, {"created_after": week_ago, "created_before": yesterday})
    # then
    assert names(after) == {"Recent", "Today"}
    assert names(window) == {"Recent"}


def test_customer_list_filter_never_widens_the_callers_scope(api_as, customer, bravo_customer):
    # when
    response = api_as("reseller_a").get(LIST_URL, {"q": "bravo"})
    # then
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (
            {"kind": "alien"},
            {"kind": ["Select a valid choice. alien is not one of the available choices."]},
        ),
        ({"created_after": "last tuesday"}, {"created_after": ["Enter a valid date/time."]}),
    ],
    ids=["kind", "created_after"],
)
def test_customer_list_refuses_a_bad_filter_naming_it(query, fields, api_as, customer):
    # when
    response = api_as("csr").get(LIST_URL, query)
    # then
    assert response.status_code == 400
    assert response.json() == invalid(**fields)


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
def test_customer_detail_is_scoped(persona, status, api_as, line):
    # when
    response = api_as(persona).get(detail_url(line.account.customer))
    # then
    assert response.status_code == status
    if status == 404:
        assert response.json() == error("Not found.", "not_found")
    if status == 200:
        assert response.json()["public_id"] == str(line.account.customer.public_id)


def test_customer_detail_shows_addresses_and_accounts(api_as, line):
    # given
    customer = line.account.customer
    Address.objects.create(
        customer=customer,
        kind="billing",
        line1="12 St James's Square",
        city="London",
        postcode="SW1Y 4LB",
        country="GB",
    )
    # when
    body = api_as("csr").get(detail_url(customer)).json()
    # then
    assert body["addresses"] == [
        {
            "kind": "billing",
            "line1": "12 St James's Square",
            "line2": "",
            "city": "London",
            "postcode": "SW1Y 4LB",
            "country": "GB",
        }
    ]
    assert body["accounts"] == [
        {
            "public_id": str(line.account.public_id),
            "number": line.account.number,
            "payment_type": "postpaid",
            "status": "active",
        }
    ]


def test_customer_detail_of_an_unknown_or_malformed_id_answers_404_in_the_error_shape(
    api_as, customer
):
    # given
    client = api_as("csr")
    # when
    unknown = client.get("/api/v1/customers/6f1c1c3e-0000-4000-8000-000000000000/")
    malformed = client.get("/api/v1/customers/42/")
    # then
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.json() == malformed.json() == error("Not found.", "not_found")


# --- create -----------------------------------------------------------------------------------

GRACE = {
    "kind": "individual",
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "Grace@Example.org",
    "phone": "07400 111222",
    "date_of_birth": "1990-12-09",
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
def test_customer_create_needs_manage_customer(persona, status, api_as, customer):
    # when
    response = api_as(persona).post(LIST_URL, GRACE, format="json")
    # then
    assert response.status_code == status
    assert Customer.objects.filter(last_name="Hopper").exists() is (status == 201)
    if status == 403:
        assert response.json() == error(
            "Your role or API key may not do this.", "permission_denied"
        )


def test_customer_create_with_a_billing_address(api_as, db):
    # given
    payload = {
        **GRACE,
        "billing_address": {
            "line1": "1 Navy Way",
            "city": "Arlington",
            "postcode": "va 22202",
            "country": "GB",
        },
    }
    # when
    response = api_as("csr").post(LIST_URL, payload, format="json")
    # then
    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.get(public_id=body["public_id"])
    assert body["number"] == customer.number
    assert customer.number.startswith("CUS-")
    assert (customer.email, customer.phone, str(customer.date_of_birth)) == (
        "grace@example.org",
        "+447400111222",
        "1990-12-09",
    )
    assert body["kyc_status"] == "pending"
    assert body["addresses"] == [
        {
            "kind": "billing",
            "line1": "1 Navy Way",
            "line2": "",
            "city": "Arlington",
            "postcode": "VA 22202",
            "country": "GB",
        }
    ]
    assert body["accounts"] == []


def test_customer_created_by_a_partner_user_belongs_to_their_partner(api_as, reseller_a, partner_a):
    # given: an operator gave this reseller's staff the right to register customers
    reseller_a.user_permissions.add(*permissions_from_names(["crm.manage_customer"]))
    client = api_as("reseller_a")
    # when
    response = client.post(LIST_URL, GRACE, format="json")
    # then
    assert response.status_code == 201
    assert Customer.objects.get(last_name="Hopper").partner == partner_a
    assert client.get(f"{LIST_URL}{response.json()['public_id']}/").status_code == 200


TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()
# Bad input the published schema allows, refused by a rule (422); the rest break the schema (400).
NOT_A_COUNTRY = "is not an ISO 3166 country code; use one such as GB."
RULE_CASES = {"future-birth", "too-old", "no-names", "phone", "business-name", "blank-name"}


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"date_of_birth": TOMORROW}, {"date_of_birth": ["The date of birth is in the future."]}),
        (
            {"date_of_birth": "2001-02-30"},
            {
                "date_of_birth": [
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                ]
            },
        ),
        ({"date_of_birth": "1850-01-01"}, {"date_of_birth": ["The date of birth is before 1900."]}),
        (
            {"first_name": "", "last_name": ""},
            {
                "first_name": ["An individual needs a first name."],
                "last_name": ["An individual needs a last name."],
            },
        ),
        ({"kind": "alien"}, {"kind": ['"alien" is not a valid choice.']}),
        ({"email": "grace@"}, {"email": ["Enter a valid email address."]}),
        ({"phone": "12345"}, {"phone": ["'12345' is not a valid phone number."]}),
        (
            {"billing_address": {"line1": "1 Navy Way"}},
            {"billing_address.city": ["This field is required."]},
        ),
        (
            {"billing_address": {"line1": "1 Navy Way", "city": "Arlington", "country": "USA"}},
            {"billing_address.country": [f"USA {NOT_A_COUNTRY}"]},
        ),
        (
            {"billing_address": {"line1": "1 Navy Way", "city": "Arlington", "country": "ZZ"}},
            {"billing_address.country": [f"ZZ {NOT_A_COUNTRY}"]},
        ),
        (
            {"billing_address": {"line1": "1 Navy Way", "city": "Arlington", "country": "us"}},
            {"billing_address.country": [f"us {NOT_A_COUNTRY}"]},
        ),
        (
            {"kind": "business", "first_name": "", "last_name": "", "date_of_birth": None},
            {"company_name": ["A business needs its registered company name."]},
        ),
    ],
    ids=[
        "future-birth",
        "impossible-date",
        "too-old",
        "no-names",
        "kind",
        "email",
        "phone",
        "address-city",
        "address-country",
        "address-country-zz",
        "address-country-lower-case",
        "business-name",
    ],
)
def test_customer_create_refuses_bad_input_naming_each_field(changes, fields, api_as, db, request):
    # given
    payload = {**GRACE, **changes}
    # when
    response = api_as("csr").post(LIST_URL, payload, format="json")
    # then: 400 when the body breaks the published schema, 422 when a rule refuses it
    assert response.status_code == (422 if request.node.callspec.id in RULE_CASES else 400)
    assert response.json() == invalid(**fields)
    assert not Customer.objects.exists()
    assert not Address.objects.exists()


# --- update -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=200,
        supervisor=200,
        admin=200,
        reseller_a=403,
        reseller_b=404,
        subscriber=403,
        other_subscriber=404,
        anonymous=401,
        key_full=200,
        key_without=404,
    ),
)
def test_customer_update_fetches_in_scope_before_checking_the_permission(
    persona, status, api_as, customer
):
    # when
    response = api_as(persona).patch(detail_url(customer), {"last_name": "Byron"}, format="json")
    # then
    assert response.status_code == status
    customer.refresh_from_db()
    assert customer.last_name == ("Byron" if status == 200 else "Lovelace")
    assert Interaction.objects.filter(customer=customer).exists() is (status == 200)


def test_customer_update_changes_only_the_fields_sent_and_notes_it(api_as, csr, customer):
    # when
    response = api_as("csr").patch(
        detail_url(customer),
        {
            "email": "ADA@Analytical.example",
            "billing_address": {"line1": "St James's Square", "city": "London"},
        },
        format="json",
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["last_name"], body["email"]) == (
        "Ada",
        "Lovelace",
        "ada@analytical.example",
    )
    assert body["addresses"][0]["city"] == "London"
    assert body["addresses"][0]["country"] == "GB"
    note = Interaction.objects.get(customer=customer)
    assert (note.author, note.body) == (csr, "Changed: email, address")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"date_of_birth": TOMORROW}, {"date_of_birth": ["The date of birth is in the future."]}),
        ({"last_name": ""}, {"last_name": ["An individual needs a last name."]}),
        (
            {"billing_address": {"line1": "", "city": "London"}},
            {"billing_address.line1": ["This field may not be blank."]},
        ),
    ],
    ids=["future-birth", "blank-name", "blank-address"],
)
def test_customer_update_refuses_bad_input_and_changes_nothing(
    changes, fields, api_as, customer, request
):
    # when
    response = api_as("csr").patch(detail_url(customer), changes, format="json")
    # then
    assert response.status_code == (422 if request.node.callspec.id in RULE_CASES else 400)
    assert response.json() == invalid(**fields)
    customer.refresh_from_db()
    assert (customer.last_name, customer.date_of_birth) == ("Lovelace", None)
    assert not Interaction.objects.exists()
    assert not Address.objects.exists()


def test_customer_collection_refuses_other_methods_listing_those_it_serves(api_as, customer):
    # when
    response = api_as("csr").delete(LIST_URL)
    # then
    assert response.status_code == 405
    assert response.json() == error('Method "DELETE" not allowed.', "method_not_allowed")
    assert {m.strip() for m in response["Allow"].split(",")} >= {"GET", "POST"}
    assert Customer.objects.filter(pk=customer.pk).exists()
