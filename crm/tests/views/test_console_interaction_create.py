"""Adding a note to the customer's timeline, with and without htmx."""

from __future__ import annotations

from django.urls import reverse

from crm.models import Interaction

from .conftest import HTMX


def _url(customer):
    return reverse("crm:interaction-create", args=[customer.public_id])


NOTE = {"kind": "call", "direction": "inbound", "subject": "Roaming", "body": "Asked for EU pack"}


def test_note_is_added_and_shown_after_redirect(csr_client, csr, customer):
    # when
    response = csr_client.post(_url(customer), NOTE)
    # then
    assert response.status_code == 302
    assert response.url == reverse("crm:customer-detail", args=[customer.public_id]) + (
        "#timeline-panel"
    )
    note = Interaction.objects.get(customer=customer)
    assert (note.kind, note.direction, note.subject, note.body, note.author) == (
        "call",
        "inbound",
        "Roaming",
        "Asked for EU pack",
        csr,
    )
    page = csr_client.get(response.url).content.decode()
    assert "Note added to the timeline." in page
    assert "Asked for EU pack" in page


def test_htmx_note_returns_the_refreshed_timeline(csr_client, customer):
    # when
    response = csr_client.post(_url(customer), NOTE, headers=HTMX)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.strip().startswith('<section class="panel" id="timeline-panel"')
    assert "Asked for EU pack" in html
    assert "Note added." in html
    assert "Casey Rep" in html
    assert Interaction.objects.filter(customer=customer).count() == 1


def test_empty_note_is_refused_and_nothing_written(csr_client, customer):
    # when
    response = csr_client.post(_url(customer), {**NOTE, "body": "   "}, headers=HTMX)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Write something in the note." in html
    assert 'value="Roaming"' in html
    assert not Interaction.objects.exists()


def test_empty_note_without_htmx_shows_the_page_with_the_error(csr_client, customer):
    # when
    response = csr_client.post(_url(customer), {**NOTE, "body": ""})
    # then
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert response.context["note_form"].errors["body"] == ["Write something in the note."]
    assert not Interaction.objects.exists()


def test_unknown_kind_is_refused(csr_client, customer):
    # when
    response = csr_client.post(_url(customer), {**NOTE, "kind": "telegram"}, headers=HTMX)
    # then
    assert "Select a valid choice" in response.content.decode()
    assert not Interaction.objects.exists()
