"""A believable demo operator: staff and partner users of every role, and customers with lines.

Rows are generated in Python and written set-based: COPY on PostgreSQL (a million lines in
minutes), multi-row INSERT on SQLite. Loading is idempotent: demo users are created once and
only the missing number of demo customers is added.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from common.actors import system_actor
from common.bulk import ids_reserve, rows_write
from common.roles import Role
from crm.demo_words import COMPANY_WORDS, FIRST_NAMES, LAST_NAMES, STREETS, TOWNS
from crm.models import (
    Account,
    Address,
    Customer,
    Interaction,
    KycDocument,
    Subscriber,
    SubscriberEvent,
    User,
)
from crm.services import sequence_take
from crm.validators import iccid_build
from partners.models import Partner, PartnerUser
from partners.services import partner_create, partner_user_add

DEMO_DOMAIN = "demo.example"
DEMO_PASSWORD = "demo-pass-2026"
LATER_CHANGES = {"suspended": "Phone reported lost", "terminated": "Customer moved away"}
DEMO_MSISDN_PREFIX = "+4474"  # demo lines: +4474 and an 8-digit serial
CHUNK = 20_000

NOTES = (
    (
        "call",
        "inbound",
        "Roaming question",
        "Asked about data roaming prices in Spain; explained the EU pack.",
    ),
    (
        "call",
        "inbound",
        "Bill query",
        "Queried a charge on the last bill; walked through the itemisation.",
    ),
    ("note", "internal", "Vulnerable customer", "Prefers contact by email; hard of hearing."),
    ("email", "outbound", "Welcome", "Sent the welcome pack and self-care sign-in details."),
    ("call", "outbound", "Retention call", "Contract ending soon; offered a loyalty discount."),
    ("sms", "outbound", "Payment reminder", "Reminder sent for the overdue balance."),
    ("visit", "inbound", "Shop visit", "Came into the shop for a SIM replacement."),
)


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    first_name: str
    last_name: str
    role: Role | None
    is_staff: bool = False
    is_superuser: bool = False
    partner_code: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(f"admin@{DEMO_DOMAIN}", "Alex", "Admin", Role.ADMIN, is_staff=True),
    DemoUser(f"root@{DEMO_DOMAIN}", "Root", "Superuser", None, is_staff=True, is_superuser=True),
    DemoUser(f"csr@{DEMO_DOMAIN}", "Casey", "Rep", Role.CSR, is_staff=True),
    DemoUser(f"supervisor@{DEMO_DOMAIN}", "Sam", "Supervisor", Role.SUPERVISOR, is_staff=True),
    DemoUser(f"reseller@{DEMO_DOMAIN}", "Rita", "Reseller", Role.RESELLER, partner_code="alpha"),
    DemoUser(f"reseller2@{DEMO_DOMAIN}", "Ben", "Bravo", Role.RESELLER, partner_code="bravo"),
    DemoUser(f"subscriber@{DEMO_DOMAIN}", "Ada", "Lovelace", Role.SUBSCRIBER),
)
DEMO_PARTNERS = (
    # code, name, kind, parent code
    ("northwind-dist", "Northwind Distribution", Partner.Kind.DISTRIBUTOR, None),
    ("alpha", "Alpha Phones", Partner.Kind.DEALER, "northwind-dist"),
    ("bravo", "Bravo Mobile", Partner.Kind.DEALER, "northwind-dist"),
    ("bravo-kiosk", "Bravo Kiosk Leeds", Partner.Kind.RESELLER, "bravo"),
)


@transaction.atomic
def demo_users_ensure() -> dict[str, User]:
    """The demo partner tree and users of every role; partners and their staff are made through
    the partner services, so their history says the system set them up."""
    system = system_actor()
    partners: dict[str, Partner] = {}
    for code, name, kind, parent_code in DEMO_PARTNERS:
        parent = partners.get(parent_code) if parent_code else None
        found = Partner.objects.filter(code=code).first()
        partners[code] = found or partner_create(
            actor=system, code=code, name=name, kind=kind, parent=parent
        )
    users: dict[str, User] = {}
    for spec in DEMO_USERS:
        user = User.objects.filter(email=spec.email).first()
        if user is None:
            user = User.objects.create_user(
                email=spec.email,
                password=DEMO_PASSWORD,
                first_name=spec.first_name,
                last_name=spec.last_name,
                is_staff=spec.is_staff,
                is_superuser=spec.is_superuser,
            )
        if spec.role is not None:
            user.groups.add(Group.objects.get(name=spec.role.value))
        if spec.partner_code and not PartnerUser.objects.filter(user=user).exists():
            partner_user_add(partner=partners[spec.partner_code], actor=system, email=user.email)
        users[spec.email.split("@")[0]] = user
    return users


# --- set-based writers ------------------------------------------------------------------------


def _kyc_document(
    rng: random.Random,
    customer_id: int,
    kyc: str,
    business: bool,
    created: datetime,
    today: date,
    reviewer: User,
) -> tuple[Any, ...]:
    """The identity document behind a demo customer's KYC status: verified customers have an
    accepted one, rejected customers a rejected one, pending customers one waiting for review."""
    kind = "company_registration" if business else rng.choice(["passport", "driving_licence"])
    number = f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randrange(10**7, 10**8)}"
    expires = None if business else today + timedelta(days=rng.randrange(200, 3650))
    if kyc == "pending":
        return (
            created,
            created,
            uuid.uuid4(),
            customer_id,
            kind,
            number,
            expires,
            "",
            "submitted",
            None,
            None,
            "",
        )
    reviewed = created + timedelta(hours=rng.randrange(1, 72))
    status, note = ("accepted", "") if kyc == "verified" else ("rejected", "Photo unreadable")
    return (
        created,
        reviewed,
        uuid.uuid4(),
        customer_id,
        kind,
        number,
        expires,
        "",
        status,
        reviewer.pk,
        reviewed,
        note,
    )


def _stamp(rng: random.Random, now: datetime) -> datetime:
    return now - timedelta(seconds=rng.randrange(3 * 365 * 24 * 3600))


def demo_customers_count() -> int:
    return Customer.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count()


def demo_customers_load(
    *, count: int, users: dict[str, User], plans: dict[str, list[int]], seed: int = 2026
) -> int:
    """Add `count` demo customers, each with a billing address, one account and one line on one
    of `plans` (price plan pks by payment type, so each line is on a plan it could buy)."""
    if count <= 0:
        return 0
    rng = random.Random(seed + demo_customers_count())
    now = timezone.now()
    today = timezone.localdate()
    partners = list(Partner.objects.order_by("pk"))
    actor = users["csr"]
    reviewer = users["supervisor"]
    notes_for = min(count, 5000)
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        with transaction.atomic():
            _load_chunk(
                rng,
                size,
                now,
                today,
                partners,
                plans,
                actor,
                reviewer,
                notes_for=max(0, notes_for - done),
            )
        done += size
    return done


def _load_chunk(
    rng: random.Random,
    size: int,
    now: datetime,
    today: date,
    partners: list[Partner],
    plans: dict[str, list[int]],
    actor: User,
    reviewer: User,
    *,
    notes_for: int,
) -> None:
    customer_id = ids_reserve(Customer, size)
    account_id = ids_reserve(Account, size)
    subscriber_id = ids_reserve(Subscriber, size)
    customer_no = sequence_take("cus", size)
    account_no = sequence_take("acc", size)
    line_serial = sequence_take("demo-line", size)
    customers, addresses, accounts, subscribers, events, notes = [], [], [], [], [], []
    documents = []
    for i in range(size):
        created = _stamp(rng, now)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        business = rng.random() < 0.1
        company = f"{last} {rng.choice(COMPANY_WORDS)} Ltd" if business else ""
        born = None if business else today - timedelta(days=rng.randrange(18 * 365, 85 * 365))
        serial = line_serial + i
        email = f"{first}.{last}.{serial}@{DEMO_DOMAIN}".lower().replace("'", "")
        partner = rng.choice(partners) if partners and rng.random() < 0.3 else None
        kyc = rng.choices(["verified", "pending", "rejected"], [80, 15, 5])[0]
        cid = customer_id + i
        customers.append(
            (
                cid,
                created,
                created,
                uuid.uuid4(),
                f"CUS-{customer_no + i:08d}",
                "business" if business else "individual",
                "" if business else first,
                "" if business else last,
                company,
                f"{rng.randrange(10**7, 10**8)}" if business else "",
                born,
                email,
                "",
                kyc,
                None,
                partner.pk if partner else None,
            )
        )
        documents.append(_kyc_document(rng, cid, kyc, business, created, today, reviewer))
        town, area = rng.choice(TOWNS)
        addresses.append(
            (
                created,
                created,
                cid,
                "billing",
                f"{rng.randrange(1, 300)} {rng.choice(STREETS)}",
                "",
                town,
                f"{area} {rng.randrange(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
                settings.OPERATOR_COUNTRY,
            )
        )
        prepaid = rng.random() < 0.6
        payment = "prepaid" if prepaid else "postpaid"
        aid = account_id + i
        accounts.append(
            (
                aid,
                created,
                created,
                uuid.uuid4(),
                f"ACC-{account_no + i:08d}",
                cid,
                settings.DEFAULT_CURRENCY,
                "prepaid" if prepaid else "postpaid",
                rng.randrange(1, 29),
                Decimal("0") if prepaid else Decimal(rng.choice(["50", "100", "250", "500"])),
                "active",
            )
        )
        status = rng.choices(["active", "suspended", "pending", "terminated"], [85, 7, 3, 5])[0]
        sid = subscriber_id + i
        changed = created
        if status in ("suspended", "terminated"):
            changed = min(now, created + timedelta(days=rng.randrange(1, 400)))
        subscribers.append(
            (
                sid,
                created,
                created,
                uuid.uuid4(),
                aid,
                f"{DEMO_MSISDN_PREFIX}{serial:08d}",
                iccid_build(serial, issuer="20"),
                f"23415{serial:010d}",
                status,
                changed,
                rng.choice(plans[payment]) if plans.get(payment) else None,
                created.date(),
            )
        )
        first = "pending" if status == "pending" else "active"
        reason = "Waiting for activation" if first == "pending" else "Connected (demo data)"
        events.append((sid, "", first, actor.pk, reason, created))
        if status in LATER_CHANGES:
            events.append((sid, "active", status, actor.pk, LATER_CHANGES[status], changed))
        if i < notes_for:
            for _ in range(rng.randrange(0, 3)):
                kind, direction, subject, body = rng.choice(NOTES)
                at = created + timedelta(days=rng.randrange(1, 300))
                notes.append((at, at, uuid.uuid4(), cid, kind, direction, subject, body, actor.pk))
    rows_write(
        Customer,
        [
            "id",
            "created_at",
            "updated_at",
            "public_id",
            "number",
            "kind",
            "first_name",
            "last_name",
            "company_name",
            "company_number",
            "date_of_birth",
            "email",
            "phone",
            "kyc_status",
            "owner_id",
            "partner_id",
        ],
        customers,
    )
    rows_write(
        Address,
        [
            "created_at",
            "updated_at",
            "customer_id",
            "kind",
            "line1",
            "line2",
            "city",
            "postcode",
            "country",
        ],
        addresses,
    )
    rows_write(
        Account,
        [
            "id",
            "created_at",
            "updated_at",
            "public_id",
            "number",
            "customer_id",
            "currency",
            "payment_type",
            "bill_cycle_day",
            "credit_limit_amount",
            "status",
        ],
        accounts,
    )
    rows_write(
        Subscriber,
        [
            "id",
            "created_at",
            "updated_at",
            "public_id",
            "account_id",
            "msisdn",
            "iccid",
            "imsi",
            "status",
            "status_changed_at",
            "plan_id",
            "plan_started_on",
        ],
        subscribers,
    )
    rows_write(
        SubscriberEvent,
        [
            "subscriber_id",
            "old_status",
            "new_status",
            "actor_id",
            "reason",
            "created_at",
        ],
        events,
    )
    rows_write(
        KycDocument,
        [
            "created_at",
            "updated_at",
            "public_id",
            "customer_id",
            "kind",
            "document_number",
            "expires_on",
            "file",
            "status",
            "reviewed_by_id",
            "reviewed_at",
            "review_note",
        ],
        documents,
    )
    rows_write(
        Interaction,
        [
            "created_at",
            "updated_at",
            "public_id",
            "customer_id",
            "kind",
            "direction",
            "subject",
            "body",
            "author_id",
        ],
        notes,
    )


@transaction.atomic
def demo_subscriber_link(users: dict[str, User]) -> Customer | None:
    """Give the demo subscriber login the first demo customer (an individual with a live line)."""
    user = users["subscriber"]
    if (owned := Customer.objects.filter(owner=user).first()) is not None:
        return owned
    customer = (
        Customer.objects.filter(
            email__endswith=f"@{DEMO_DOMAIN}",
            kind="individual",
            partner__isnull=True,
            accounts__subscribers__status="active",
        )
        .order_by("pk")
        .first()
    )
    if customer is not None:
        Customer.objects.filter(pk=customer.pk).update(
            owner=user,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
        )
    return customer
