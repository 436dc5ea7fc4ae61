"""Usage records (voice, SMS, MMS, data), the control record of each file or batch that brought
them, and the saved column mappings of generic CSV files.

The record table is built for hundreds of millions of rows. On PostgreSQL it is RANGE-partitioned
by month on `started_at` (migration 0003; `billing.usage.services.usage_partitions_ensure` adds
monthly partitions ahead of the data; a DEFAULT partition catches anything else), so its primary
key is (id, started_at) and every unique index includes `started_at`. References to lines,
accounts, batches and allowance grants are plain integer columns (`db_constraint=False`): a foreign
key check per row on the bulk-load path costs an index probe each, and records outlive the rows
they point at (a terminated line's usage is kept for its retention period). Integrity is the
loader's job: it guides each record to a line it has just read.

Rejected records stay in the same table (status `rejected`, a machine-readable `reject_reason`,
a readable `reject_detail` and the original row in `raw`), so there is one reject queue and a
recycled record keeps its history. A row whose start time cannot be read is kept with
`started_at` set to the time its batch was received (`time_known` false).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models

from common.models import TimeStampedModel, money_field


class UsageMapping(TimeStampedModel):
    """How the columns of a generic CSV file map to usage record fields, saved under a name
    (`--mapping NAME`). `columns` maps a record field to a column: a header name when the
    file has a header, else a 0-based position, e.g. {"calling_number": "A", "started_at": 2}."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.SlugField(max_length=60, unique=True)
    columns = models.JSONField(help_text="Record field -> header name or 0-based position.")
    time_format = models.CharField(
        max_length=40,
        default="iso",
        help_text='"iso" (ISO 8601), "epoch" (Unix seconds) or a strptime format.',
    )
    time_zone = models.CharField(
        max_length=40, default="UTC", help_text="Zone of times written without an offset."
    )
    delimiter = models.CharField(max_length=1, default=",")
    has_header = models.BooleanField(default=True)
    defaults = models.JSONField(
        default=dict,
        blank=True,
        help_text='Values for fields the file lacks, e.g. {"service": "sms"}.',
    )

    def __str__(self) -> str:
        return self.name


class UsageBatch(TimeStampedModel):
    """The control record of one file or API batch: what came in and what became of it.

    received = rated + rejected + duplicate, always: each chunk updates the counters in the
    transaction that writes its records, so a crash mid-file leaves them true and a re-run
    resumes at the first chunk not done.
    """

    class SourceKind(models.TextChoices):
        FILE = "file", "File"
        API = "api", "API client"
        UPLOAD = "upload", "Upload"

    class Format(models.TextChoices):
        ASTERISK = "asterisk", "Asterisk cdr_csv (Master.csv)"
        FREESWITCH = "freeswitch", "FreeSWITCH mod_cdr_csv"
        CSV = "csv", "CSV with a saved column mapping"
        JSON = "json", "JSON records (API)"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source_kind = models.CharField(max_length=8, choices=SourceKind.choices)
    source_name = models.CharField(
        max_length=120, help_text="The sending system: dedup keys are (source, record id)."
    )
    file_name = models.CharField(max_length=255, blank=True)
    file_path = models.CharField(
        max_length=1000, blank=True, help_text="Where chunk workers read the file from."
    )
    format = models.CharField(max_length=12, choices=Format.choices)
    mapping = models.ForeignKey(
        UsageMapping, models.PROTECT, null=True, blank=True, related_name="batches"
    )
    header = models.TextField(blank=True, help_text="The file's header row, when it has one.")
    fingerprint = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the content: a re-sent file is known."
    )
    idempotency_key = models.CharField(max_length=80, blank=True)
    duplicate_of = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="resends"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    chunk_size = models.PositiveIntegerField(default=20_000)
    chunk_count = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    received_count = models.BigIntegerField(default=0)
    rated_count = models.BigIntegerField(default=0)
    rejected_count = models.BigIntegerField(default=0)
    duplicate_count = models.BigIntegerField(default=0)
    zero_charge_count = models.BigIntegerField(default=0)
    reject_reasons = models.JSONField(default=dict, blank=True, help_text="Reason -> count.")
    total_duration_seconds = models.BigIntegerField(default=0)
    total_amount = money_field(default=0)
    currency = models.CharField(max_length=3, blank=True)
    totals_by_currency = models.JSONField(
        default=dict, blank=True, help_text="Currency -> amount (string) when lines differ."
    )
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        permissions = [
            ("push_usage", "Send usage records and files"),
            ("view_usage", "See usage records, batches and the reject queue"),
            ("manage_usage", "Recycle rejected usage and manage column mappings"),
        ]
        indexes = [
            models.Index(fields=["fingerprint", "source_name"], name="billing_usagebatch_print"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_name", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="billing_usagebatch_idempotency",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    received_count=models.F("rated_count")
                    + models.F("rejected_count")
                    + models.F("duplicate_count")
                ),
                name="billing_usagebatch_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_name} {self.file_name or self.public_id}"


class UsageBatchChunk(models.Model):
    """One unit of work of a batch: lines [first_line, first_line + line_count) of its file,
    starting at byte `offset`. Any worker may take a chunk; `done` is set in the transaction
    that writes its records, so a chunk is never counted twice."""

    batch = models.ForeignKey(UsageBatch, models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    offset = models.BigIntegerField(default=0)
    first_line = models.BigIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="billing_usagechunk_number")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.number}"


class UsageRecord(models.Model):
    """One call, message or data session, as it arrived and as it was rated."""

    class Service(models.TextChoices):
        VOICE = "voice", "Voice"
        SMS = "sms", "SMS"
        MMS = "mms", "MMS"
        DATA = "data", "Data"

    class Direction(models.TextChoices):
        ORIGINATING = "originating", "Originating"
        TERMINATING = "terminating", "Terminating"

    class Disposition(models.TextChoices):
        ANSWERED = "answered", "Answered"
        BUSY = "busy", "Busy"
        NO_ANSWER = "no_answer", "No answer"
        FAILED = "failed", "Failed"

    class DeliveryStatus(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        PENDING = "pending", "Pending"

    class Status(models.TextChoices):
        # TM Forum usage life cycle
        RECEIVED = "received", "Received"
        GUIDED = "guided", "Guided to a line"
        RATED = "rated", "Rated"
        BILLED = "billed", "Billed"
        REJECTED = "rejected", "Rejected"
        RECYCLED = "recycled", "Recycled"
        RERATED = "rerated", "Re-rated"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.RECEIVED: frozenset({Status.GUIDED, Status.REJECTED}),
        Status.GUIDED: frozenset({Status.RATED, Status.REJECTED}),
        Status.RATED: frozenset({Status.BILLED, Status.RERATED}),
        Status.RERATED: frozenset({Status.BILLED, Status.RERATED}),
        Status.BILLED: frozenset(),
        Status.REJECTED: frozenset({Status.RECYCLED}),
        Status.RECYCLED: frozenset({Status.RATED, Status.REJECTED}),
    }

    class RejectReason(models.TextChoices):
        MALFORMED_ROW = "malformed_row", "The row has the wrong number of columns"
        MALFORMED_NUMBER = "malformed_number", "A number is not a telephone number"
        BAD_TIME = "bad_time", "A time cannot be read"
        NEGATIVE_DURATION = "negative_duration", "A duration is negative"
        END_BEFORE_START = "end_before_start", "The end is before the start"
        TIME_IN_FUTURE = "time_in_future", "The start is in the future"
        UNKNOWN_LINE = "unknown_line", "No line has this number or IMSI at that time"
        NO_RATE = "no_rate", "No allowance, tier or tariff rates this destination"

    class DestinationClass(models.TextChoices):
        ON_NET = "on_net", "On-net"
        OFF_NET = "off_net", "Off-net"
        INTERNATIONAL = "international", "International"
        PREMIUM = "premium", "Premium rate"
        SHORT_CODE = "short_code", "Short code"
        DATA = "data", "Data"

    id = models.BigAutoField(primary_key=True)
    dedup_key = models.UUIDField(
        help_text="The record's identity: MD5 of (source, the record's own id) as a UUID."
    )
    batch = models.ForeignKey(
        UsageBatch, models.DO_NOTHING, db_constraint=False, db_index=False, related_name="records"
    )
    line_number = models.BigIntegerField(default=0, help_text="Row of the file (1-based).")
    source_record_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    reject_reason = models.CharField(max_length=20, choices=RejectReason.choices, blank=True)
    reject_detail = models.CharField(max_length=300, blank=True)
    raw = models.TextField(
        blank=True,
        help_text="The original row or JSON, exactly: always for a rejected record, for a rated "
        "one when settings.USAGE_KEEP_RAW_OF_RATED is on.",
    )

    service = models.CharField(max_length=5, choices=Service.choices, blank=True)
    direction = models.CharField(max_length=11, choices=Direction.choices, blank=True)
    calling_number = models.CharField(max_length=80, blank=True, help_text="As received.")
    calling_e164 = models.CharField(max_length=16, blank=True)
    called_number = models.CharField(max_length=80, blank=True, help_text="As received.")
    called_e164 = models.CharField(max_length=16, blank=True)
    started_at = models.DateTimeField(help_text="The partition key.")
    time_known = models.BooleanField(default=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.IntegerField(default=0)
    billable_seconds = models.IntegerField(default=0)
    disposition = models.CharField(max_length=9, choices=Disposition.choices, blank=True)
    delivery_status = models.CharField(max_length=9, choices=DeliveryStatus.choices, blank=True)
    message_parts = models.PositiveSmallIntegerField(default=0)
    message_content = models.TextField(
        blank=True, help_text="Kept only when settings.USAGE_STORE_MESSAGE_CONTENT is on."
    )
    bytes_up = models.BigIntegerField(default=0)
    bytes_down = models.BigIntegerField(default=0)
    apn = models.CharField("APN", max_length=100, blank=True)
    roaming = models.BooleanField(default=False)
    visited_mcc = models.CharField("visited MCC", max_length=3, blank=True)
    visited_mnc = models.CharField("visited MNC", max_length=3, blank=True)
    roaming_zone = models.CharField(max_length=40, blank=True)
    cell_id = models.CharField(max_length=40, blank=True)
    imsi = models.CharField("IMSI", max_length=15, blank=True)
    destination_class = models.CharField(
        max_length=13, choices=DestinationClass.choices, blank=True
    )

    subscriber = models.ForeignKey(
        "crm.Subscriber",
        models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    account = models.ForeignKey(
        "crm.Account",
        models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    payment_type = models.CharField(max_length=8, blank=True, help_text="prepaid or postpaid")
    charge_amount = money_field(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    # the allowance bucket it drew on first (the name is from before allowances were buckets)
    allowance_grant = models.ForeignKey(
        "billing.Bucket",
        models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    allowance_units = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    rated_units = models.DecimalField(
        max_digits=16, decimal_places=2, default=0, help_text="min, SMS or MB counted for tiers"
    )
    tariff_version_id = models.BigIntegerField(null=True, blank=True)
    rating_trace = models.JSONField(default=dict, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dedup_key", "started_at"], name="billing_usage_dedup"),
        ]
        indexes = [
            models.Index(fields=["subscriber", "started_at"], name="billing_usage_line_time"),
            models.Index(fields=["batch", "line_number"], name="billing_usage_batch"),
            models.Index(
                fields=["reject_reason", "created_at"],
                condition=models.Q(status="rejected"),
                name="billing_usage_rejects",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.calling_number} -> {self.called_number} {self.status}"


class UsageCounter(models.Model):
    """Units a line has been charged for (beyond allowances) in one bill period, per service:
    what the plan's charging tiers price the next record by. Kept by the loader in the same
    transaction as the records it counts (under the line's lock), so reading it costs one row
    per line and period, not a scan of the period's records. A missing row is counted from the
    records once (usage loaded before counters existed) and kept from then on."""

    subscriber_id = models.BigIntegerField()
    service = models.CharField(max_length=5)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    units = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber_id", "service", "period_start"], name="billing_usage_counter"
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.subscriber_id} {self.service} from {self.period_start}: {self.units}"
