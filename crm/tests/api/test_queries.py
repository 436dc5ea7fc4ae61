"""Lists cost the same number of queries for one row as for many (no query per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.tests.factories import AccountFactory, CustomerFactory, PartnerFactory, SubscriberFactory


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/accounts/", "/api/v1/subscribers/"])
def test_a_list_does_not_query_per_row(url, api_as, db):
    # given
    client = api_as("csr")
    SubscriberFactory(account__customer__partner=PartnerFactory())
    one_row = _queries(client, url)
    for _ in range(5):
        SubscriberFactory(
            account=AccountFactory(customer=CustomerFactory(partner=PartnerFactory()))
        )
    # when
    six_rows = _queries(client, url)
    # then
    assert six_rows == one_row
