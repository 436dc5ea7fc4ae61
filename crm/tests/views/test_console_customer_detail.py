"""The customer page: everything about the customer at once, in a fixed number of queries."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Address, Interaction, KycDocument
from crm.services import subscriber_suspend
from crm.tests.factories import AccountFactory, InteractionFactory, SubscriberFactory


def _url(customer):
    return reverse("crm:customer-detail", args=[customer.public_id])


def test_page_shows_details_accounts_and_lines(csr_client, line, customer):
    # given
    customer.date_of_birth = date(1815, 12, 10)
    customer.phone = "+442079460000"
    customer.save()
    Address.objects.create(
        customer=customer,
        line1="12 St James's Sq",
        city="London",
        postcode="SW1Y 4JH",
        country="GB",
    )
    KycDocument.objects.create(customer=customer, kind="passport", document_number="P123")
    prepaid = AccountFactory(
        customer=customer,
        payment_type="prepaid",
        currency="EUR",
        credit_limit_amount=0,
        bill_cycle_day=9,
    )
    # when
    response = csr_client.get(_url(customer))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1>Ada Lovelace <span class="muted">' in html
    assert "10 Dec 1815" in html
    assert "ada@example.org" in html
    assert "+44 20 7946 0000" in html
    assert "12 St James&#x27;s Sq, London, SW1Y 4JH, GB" in html
    assert "Alpha Phones" in html
    assert "Passport</strong> P123" in html
    assert line.account.number in html
    assert "£100.00" in html
    assert prepaid.number in html
    assert "None (prepaid)" in html
    assert "+44 7400 123456" in html
    assert line.iccid in html
    assert line.imsi in html
    assert f'id="line-{line.public_id}"' in html


def test_business_shows_company_number_instead_of_birth_date(csr_client):
    # given
    account = AccountFactory(
        customer__kind="business",
        customer__company_name="Initech Ltd",
        customer__company_number="07654321",
        customer__first_name="",
        customer__last_name="",
    )
    # when
    html = csr_client.get(_url(account.customer)).content.decode()
    # then
    assert "Initech Ltd" in html
    assert "07654321" in html
    assert "Date of birth" not in html


def test_csr_may_suspend_but_not_terminate(csr_client, line, customer):
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    assert 'name="action" value="suspend"' in html
    assert 'value="terminate"' not in html
    assert 'name="reason" required' in html


def test_supervisor_may_terminate(supervisor_client, line, customer):
    # when
    html = supervisor_client.get(_url(customer)).content.decode()
    # then
    assert 'name="action" value="suspend"' in html
    assert 'name="action" value="terminate"' in html


def test_actions_follow_the_line_status(csr_client, csr, line, customer):
    # given
    subscriber_suspend(subscriber=line, actor=csr, reason="Lost phone")
    pending = SubscriberFactory(account=line.account, status="pending")
    terminated = SubscriberFactory(account=line.account, status="terminated")
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    row = html.split(f'id="line-{line.public_id}"')[1].split("</tr>")[0]
    assert 'value="resume"' in row
    assert 'value="suspend"' not in row
    row = html.split(f'id="line-{pending.public_id}"')[1].split("</tr>")[0]
    assert 'value="activate"' in row
    row = html.split(f'id="line-{terminated.public_id}"')[1].split("</tr>")[0]
    assert "<form" not in row


def test_timeline_merges_notes_and_status_changes_newest_first(csr_client, csr, line, customer):
    # given
    InteractionFactory(customer=customer, subject="Called about roaming", body="Wants EU pack")
    subscriber_suspend(subscriber=line, actor=csr, reason="Phone stolen")
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    timeline = html.split('id="timeline"')[1]
    assert timeline.index("+44 7400 123456: active → suspended") < timeline.index(
        "Called about roaming"
    )
    assert "Phone stolen" in timeline
    assert "Casey Rep" in timeline


def test_query_count_does_not_grow_with_lines(
    csr_client, csr, customer, django_assert_max_num_queries
):
    # given: one account with one line
    first = SubscriberFactory(account__customer=customer)
    InteractionFactory(customer=customer)
    with CaptureQueriesContext(connection) as baseline:
        assert csr_client.get(_url(customer)).status_code == 200
    # and then many more accounts, lines, events and notes
    for _ in range(3):
        account = AccountFactory(customer=customer)
        for _ in range(4):
            subscriber_suspend(
                subscriber=SubscriberFactory(account=account), actor=csr, reason="Test"
            )
    subscriber_suspend(subscriber=first, actor=csr, reason="Test")
    InteractionFactory.create_batch(5, customer=customer, author=csr)
    KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    # when / then
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = csr_client.get(_url(customer))
    assert response.content.decode().count('class="line-row"') == 13


def test_page_of_a_customer_without_accounts(csr_client, customer):
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    assert "No accounts yet." in html
    assert "Nothing on the timeline yet." in html
    assert not Interaction.objects.exists()
