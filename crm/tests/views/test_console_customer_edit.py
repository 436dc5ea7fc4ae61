"""Changing a customer's details; the change is written to the timeline."""

from __future__ import annotations

from django.urls import reverse

from crm.models import Address, Customer, Interaction


def _url(customer):
    return reverse("crm:customer-edit", args=[customer.public_id])


def _data(customer, **changes):
    data = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "date_of_birth": "",
        "email": customer.email,
        "phone": customer.phone,
        "address_line1": "",
        "address_city": "",
        "address_country": "GB",
    }
    data.update(changes)
    return data


def test_form_is_filled_with_the_current_details(csr_client, customer):
    # given
    Address.objects.create(customer=customer, line1="1 Analytical St", city="London", country="GB")
    # when
    html = csr_client.get(_url(customer)).content.decode()
    # then
    assert 'value="Ada"' in html
    assert 'value="ada@example.org"' in html
    assert 'value="1 Analytical St"' in html
    assert 'name="company_name"' not in html


def test_change_is_saved_and_noted(csr_client, csr, customer):
    # when
    response = csr_client.post(
        _url(customer),
        _data(
            customer,
            email="Ada@Engine.example",
            phone="07400 111222",
            address_line1="2 Difference Rd",
            address_city="Cambridge",
            address_postcode="cb2 1tn",
        ),
    )
    # then
    assert response.status_code == 302
    assert response.url == reverse("crm:customer-detail", args=[customer.public_id])
    customer.refresh_from_db()
    assert (customer.email, customer.phone) == ("ada@engine.example", "+447400111222")
    assert str(customer.addresses.get()) == "2 Difference Rd, Cambridge, CB2 1TN, GB"
    note = Interaction.objects.get(customer=customer)
    assert (note.subject, note.author) == ("Details changed", csr)
    assert note.body == "Changed: email, phone, address"


def test_saving_without_changes_notes_nothing(csr_client, customer):
    # when
    response = csr_client.post(_url(customer), _data(customer))
    # then
    assert response.status_code == 302
    assert not Interaction.objects.exists()


def test_bad_phone_is_refused_and_nothing_changes(csr_client, customer):
    # when
    response = csr_client.post(_url(customer), _data(customer, phone="12", email="x@example.org"))
    # then
    assert response.status_code == 200
    assert any("is not a valid phone number" in e for e in response.context["form"].errors["phone"])
    customer.refresh_from_db()
    assert customer.email == "ada@example.org"
    assert not Interaction.objects.exists()


def test_impossible_date_of_birth_is_refused(csr_client, customer):
    # when
    response = csr_client.post(_url(customer), _data(customer, date_of_birth="2001-13-01"))
    # then
    assert response.status_code == 200
    assert "Enter a real date" in response.context["form"].errors["date_of_birth"][0]
    customer.refresh_from_db()
    assert customer.date_of_birth is None


def test_business_edits_company_fields(csr_client):
    # given
    business = Customer.objects.create(
        number="CUS-70000001", kind="business", company_name="Initech Ltd"
    )
    # when
    response = csr_client.post(
        _url(business),
        {
            "company_name": "Initech Group Ltd",
            "company_number": "01234567",
            "address_country": "GB",
        },
    )
    # then
    assert response.status_code == 302
    business.refresh_from_db()
    assert (business.company_name, business.company_number) == ("Initech Group Ltd", "01234567")
