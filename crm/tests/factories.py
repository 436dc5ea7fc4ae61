from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from common.roles import Role
from crm.models import Account, Customer, Interaction, Subscriber, User
from crm.validators import iccid_build
from partners.models import Partner, PartnerUser

PASSWORD = "correct-horse-battery-staple"


def iccid_for(serial: int) -> str:
    return iccid_build(serial, issuer="10")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(user: User, create: bool, extracted: Role | None, **kwargs: object) -> None:  # type: ignore[misc]
        if extracted is not None:
            user.groups.add(Group.objects.get(name=extracted.value))
        if create:
            user.save()


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    code = factory.Sequence(lambda n: f"partner-{n}")
    name = factory.Sequence(lambda n: f"Partner {n} Ltd")
    path = factory.LazyAttribute(lambda o: f"{o.parent.path if o.parent else ''}{o.code}/")
    parent = None


class PartnerUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerUser

    user = factory.SubFactory(UserFactory, role=Role.RESELLER)
    partner = factory.SubFactory(PartnerFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    number = factory.Sequence(lambda n: f"CUS-9{n:07d}")
    kind = Customer.Kind.INDIVIDUAL
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.org")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    number = factory.Sequence(lambda n: f"ACC-9{n:07d}")
    customer = factory.SubFactory(CustomerFactory)
    currency = "GBP"
    payment_type = Account.PaymentType.POSTPAID
    bill_cycle_day = 1
    credit_limit_amount = Decimal("100.0000")


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscriber

    account = factory.SubFactory(AccountFactory)
    msisdn = factory.Sequence(lambda n: f"+4475{n:08d}")
    iccid = factory.Sequence(iccid_for)
    imsi = factory.Sequence(lambda n: f"23410{n:010d}")
    status = Subscriber.Status.ACTIVE


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    body = factory.Faker("sentence")
