from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from common.models import StatusEvent, TimeStampedModel
from common.money import Money
from crm.validators import msisdn_display


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person (or an API key's machine identity) who signs in; email is the login."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    is_machine = models.BooleanField(
        default=False, help_text="The identity of an API key; it cannot sign in to a page."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        permissions = [
            ("access_console", "Open the CSR console"),
            ("access_backoffice", "Open the back office"),
            ("access_partner_portal", "Open the partner portal"),
            ("access_selfcare", "Open the self-care site"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class NumberSequence(models.Model):
    """Counters for readable numbers (ACC-…, CUS-…), taken under a row lock."""

    name = models.CharField(max_length=40, primary_key=True)
    last_value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class Customer(TimeStampedModel):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        BUSINESS = "business", "Business"

    class KycStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INDIVIDUAL)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    company_number = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True, help_text="Stored lower-case")
    phone = models.CharField(max_length=20, blank=True, help_text="Contact number, E.164")
    kyc_status = models.CharField(
        max_length=16, choices=KycStatus.choices, default=KycStatus.PENDING
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        help_text="The self-care login of this customer.",
    )
    partner = models.ForeignKey(
        "partners.Partner",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        help_text="The reseller who registered this customer.",
    )

    class Meta:
        permissions = [
            ("view_any_customer", "See every customer, not only one's own"),
            ("manage_customer", "Create and change customers, accounts and subscribers"),
            ("review_kyc", "Accept or reject KYC documents"),
        ]
        indexes = [models.Index(fields=["email"], name="crm_customer_email")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="individual") & ~models.Q(last_name="")
                    | models.Q(kind="business") & ~models.Q(company_name="")
                ),
                name="crm_customer_has_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.number})"

    @property
    def display_name(self) -> str:
        if self.kind == self.Kind.BUSINESS:
            return self.company_name
        return f"{self.first_name} {self.last_name}".strip()


class Address(TimeStampedModel):
    class Kind(models.TextChoices):
        BILLING = "billing", "Billing"
        SERVICE = "service", "Service"
        POSTAL = "postal", "Postal"

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BILLING)
    line1 = models.CharField("address line 1", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind"], name="crm_address_one_per_kind")
        ]

    def __str__(self) -> str:
        parts = [self.line1, self.line2, self.city, self.postcode, self.country]
        return ", ".join(p for p in parts if p)


class KycDocument(TimeStampedModel):
    class Kind(models.TextChoices):
        PASSPORT = "passport", "Passport"
        ID_CARD = "id_card", "National ID card"
        DRIVING_LICENCE = "driving_licence", "Driving licence"
        PROOF_OF_ADDRESS = "proof_of_address", "Proof of address"
        COMPANY_REGISTRATION = "company_registration", "Company registration"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, models.CASCADE, related_name="kyc_documents")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    document_number = models.CharField(max_length=60, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    file = models.FileField(upload_to="kyc/%Y/%m/", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.document_number}".strip()


class Account(TimeStampedModel):
    class PaymentType(models.TextChoices):
        PREPAID = "prepaid", "Prepaid"
        POSTPAID = "postpaid", "Postpaid"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(Customer, models.PROTECT, related_name="accounts")
    currency = models.CharField(max_length=3)
    payment_type = models.CharField(max_length=16, choices=PaymentType.choices)
    bill_cycle_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    credit_limit_amount = models.DecimalField(
        max_digits=18, decimal_places=settings.MONEY_DECIMAL_PLACES, default=Decimal("0")
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bill_cycle_day__gte=1, bill_cycle_day__lte=28),
                name="crm_account_bill_cycle_day_1_28",
            ),
            models.CheckConstraint(
                condition=models.Q(credit_limit_amount__gte=0),
                name="crm_account_credit_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def credit_limit(self) -> Money:
        return Money(self.credit_limit_amount, self.currency)


class Subscriber(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        TERMINATED = "terminated", "Terminated"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.PENDING: frozenset({Status.ACTIVE, Status.TERMINATED}),
        Status.ACTIVE: frozenset({Status.SUSPENDED, Status.TERMINATED}),
        Status.SUSPENDED: frozenset({Status.ACTIVE, Status.TERMINATED}),
        Status.TERMINATED: frozenset(),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, models.PROTECT, related_name="subscribers")
    msisdn = models.CharField("MSISDN", max_length=16, help_text="E.164")
    iccid = models.CharField("ICCID", max_length=20)
    imsi = models.CharField("IMSI", max_length=15)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    plan = models.ForeignKey(
        "orders.PricePlan",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="subscribers",
        help_text="The plan version this line is on; set by orders.",
    )
    plan_started_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day the line started its plan: weekly and 30-day periods count from it.",
    )

    class Meta:
        permissions = [
            ("change_subscriber_status", "Activate, suspend and resume subscribers"),
            ("terminate_subscriber", "Terminate subscribers"),
        ]
        # A terminated line keeps its history while its number and SIM go back to stock,
        # so uniqueness holds among live lines only; plain indexes serve search over all.
        constraints = [
            models.UniqueConstraint(
                fields=["msisdn"],
                condition=~models.Q(status="terminated"),
                name="crm_subscriber_live_msisdn_unique",
                violation_error_message="This MSISDN belongs to another live subscriber.",
            ),
            models.UniqueConstraint(
                fields=["iccid"],
                condition=~models.Q(status="terminated"),
                name="crm_subscriber_live_iccid_unique",
                violation_error_message="This ICCID belongs to another live subscriber.",
            ),
            models.UniqueConstraint(
                fields=["imsi"],
                condition=~models.Q(status="terminated"),
                name="crm_subscriber_live_imsi_unique",
                violation_error_message="This IMSI belongs to another live subscriber.",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="crm_subscriber_status"),
            models.Index(fields=["msisdn"], name="crm_subscriber_msisdn"),
            models.Index(fields=["iccid"], name="crm_subscriber_iccid"),
            models.Index(fields=["imsi"], name="crm_subscriber_imsi"),
        ]

    def __str__(self) -> str:
        return self.msisdn_display

    @property
    def msisdn_display(self) -> str:
        return msisdn_display(self.msisdn)

    def allowed_transitions(self) -> frozenset[str]:
        return self.TRANSITIONS[self.Status(self.status)]


class SubscriberEvent(StatusEvent):
    subscriber = models.ForeignKey(Subscriber, models.CASCADE, related_name="events")

    class Meta:
        ordering = ["-created_at", "-pk"]


class Interaction(TimeStampedModel):
    """The customer's timeline: notes, calls, emails."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        VISIT = "visit", "Shop visit"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        INTERNAL = "internal", "Internal"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NOTE)
    direction = models.CharField(
        max_length=16, choices=Direction.choices, default=Direction.INTERNAL
    )
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="crm_interaction_timeline")
        ]

    def __str__(self) -> str:
        return self.subject or self.body[:40]
