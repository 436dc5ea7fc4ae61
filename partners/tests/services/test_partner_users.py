"""Partner users: added (a new login or an existing one) and removed, each audited on the
partner; operator staff and another partner's users are refused, writing nothing."""

from __future__ import annotations

import pytest

from common.audit import audit_events_for
from common.errors import ApplicationError
from common.roles import PARTNER, Role, frontends_for
from crm.models import User
from crm.tests.factories import PartnerUserFactory, UserFactory
from partners.models import PartnerUser
from partners.selectors import partner_of
from partners.services import partner_user_add, partner_user_remove
from partners.tests.conftest import world


def fresh(user):
    """The user as the next request sees them (permissions and partner are cached per object)."""
    return User.objects.get(pk=user.pk)


def test_a_new_email_gets_a_reseller_login_that_is_never_staff(admin, east):
    # when
    membership = partner_user_add(
        partner=east,
        actor=admin,
        email=" Sam.Seller@Example.com ",
        first_name="Sam",
        last_name="Seller",
    )
    # then
    user = fresh(membership.user)
    assert (user.email, user.first_name, user.last_name) == (
        "sam.seller@example.com",
        "Sam",
        "Seller",
    )
    assert (user.is_staff, user.is_superuser, user.has_usable_password()) == (False, False, False)
    assert list(user.groups.values_list("name", flat=True)) == [Role.RESELLER.value]
    assert frontends_for(user) == [PARTNER]
    assert partner_of(user) == east
    [event] = audit_events_for(east)
    assert (event.action, event.actor) == ("user added", admin)
    assert event.changes == {
        "user": [None, "sam.seller@example.com"],
        "login": [None, "created"],
    }


def test_an_existing_login_is_linked_as_it_is(admin, east, subscriber):
    # given: a self-care login that also works at the shop
    # when
    partner_user_add(
        partner=east, actor=admin, email="SUBSCRIBER@example.com", first_name="X", last_name="Y"
    )
    # then
    user = fresh(subscriber)
    assert (user.first_name, user.last_name) == (subscriber.first_name, subscriber.last_name)
    assert set(user.groups.values_list("name", flat=True)) == {
        Role.SUBSCRIBER.value,
        Role.RESELLER.value,
    }
    assert partner_of(user) == east
    assert audit_events_for(east).get().changes == {"user": [None, "subscriber@example.com"]}


@pytest.mark.parametrize("persona", ["csr", "supervisor", "admin"])
def test_operator_staff_cannot_become_partner_users(request, east, persona):
    # given: CSRs and supervisors are not is_staff, but they hold operator roles
    staff = request.getfixturevalue(persona)
    actor = UserFactory(role=Role.ADMIN)
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_user_add(partner=east, actor=actor, email=staff.email)
    # then
    assert exc.value.fields == {
        "email": [f"{staff.email} is operator staff; partner users have logins of their own."]
    }
    assert world() == before


def test_a_user_of_another_partner_is_refused(admin, east, reseller_a):
    # given
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_user_add(partner=east, actor=admin, email=reseller_a.email)
    # then
    assert exc.value.fields == {
        "email": ["reseller-a@example.com is already a user of Alpha Phones."]
    }
    assert world() == before


def test_a_user_already_of_this_partner_is_refused(admin, reseller_a, partner_a):
    # given
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_user_add(partner=partner_a, actor=admin, email=reseller_a.email)
    # then
    assert exc.value.fields == {
        "email": ["reseller-a@example.com is already a user of Alpha Phones."]
    }
    assert world() == before


def test_a_new_login_needs_both_names_and_a_real_email(admin, east):
    # given
    before = world()
    # when
    with pytest.raises(ApplicationError) as no_names:
        partner_user_add(partner=east, actor=admin, email="new@example.com")
    with pytest.raises(ApplicationError) as bad_email:
        partner_user_add(partner=east, actor=admin, email="not-an-email", first_name="A")
    # then
    assert no_names.value.fields == {
        "first_name": ["A new login needs the person's first name."],
        "last_name": ["A new login needs the person's last name."],
    }
    assert bad_email.value.fields == {"email": ["'not-an-email' is not an email address."]}
    assert world() == before


def test_removing_a_user_takes_the_link_and_the_reseller_role(admin, reseller_a, partner_a):
    # when
    membership = partner_user_remove(
        partner=partner_a, actor=admin, user=reseller_a, reason="Left the shop"
    )
    # then
    user = fresh(reseller_a)
    assert membership.is_active is False
    assert PartnerUser.objects.filter(user=user).count() == 1  # kept, inactive, for the record
    assert partner_of(user) is None
    assert not user.groups.filter(name=Role.RESELLER.value).exists()
    assert frontends_for(user) == []
    assert user.is_active  # the login stays, for any other role it holds
    [event] = audit_events_for(partner_a)
    assert (event.action, event.actor, event.reason, event.changes) == (
        "user removed",
        admin,
        "Left the shop",
        {"user": ["reseller-a@example.com", None]},
    )


def test_a_removed_user_may_join_another_partner(admin, reseller_a, partner_a, east):
    # given
    partner_user_remove(partner=partner_a, actor=admin, user=reseller_a)
    # when
    partner_user_add(partner=east, actor=admin, email=reseller_a.email)
    # then
    user = fresh(reseller_a)
    assert partner_of(user) == east
    assert user.groups.filter(name=Role.RESELLER.value).exists()
    assert list(PartnerUser.objects.values_list("partner__code", "is_active")) == [("east", True)]


def test_removing_someone_who_is_not_a_user_of_the_partner_writes_nothing(admin, reseller_a, east):
    # given
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_user_remove(partner=east, actor=admin, user=reseller_a)
    # then
    assert exc.value.message == "reseller-a@example.com is not a user of East Phones."
    assert world() == before


def test_a_removed_user_is_not_removed_twice(admin, partner_a):
    # given
    user = PartnerUserFactory(partner=partner_a).user
    partner_user_remove(partner=partner_a, actor=admin, user=user)
    before = world()
    # when
    with pytest.raises(ApplicationError):
        partner_user_remove(partner=partner_a, actor=admin, user=user)
    # then
    assert world() == before
