"""REST API of usage ingestion (mounted at /api/v1/usage/): mediation and network systems push
usage records in batches of JSON and read back what became of each; the reject queue is read
and recycled here as in the back office.

A batch is checked against its schema whole before anything is written (400 names each field
at fault, by record index); a record that matches the schema but cannot be used (a number that
is not a telephone number, an end before its start, no line with this number at that time, no
rate) is kept in the reject queue with a machine-readable reason, and the answer says so for
that record. Sending the same records again counts them duplicates and charges nothing; the
same Idempotency-Key replays the first answer.

An API key sees only the batches it sent and their rejects; staff with billing.view_usage see
every batch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.permissions import BillingPerm
from billing.usage.models import UsageBatch, UsageRecord
from billing.usage.selectors import (
    usage_batch_get_for,
    usage_batch_outcomes,
    usage_batches_for,
    usage_rejects_for,
)
from billing.usage.services import usage_batch_ingest_records, usage_recycle
from common.api import ErrorSerializer, ListApi, actor_of, errors, refuse, require_perm
from common.errors import ApplicationError
from common.filters import blank_query_refuse
from common.idempotency import HEADER as IDEMPOTENCY_HEADER
from common.idempotency import IdempotencyKeyReused, idempotent
from common.money import Money
from common.pagination import CursorPagination
from common.serializers import MoneySerializer, TextField

TAGS = ["usage"]
MAX_RECORDS = 10_000
MAX_RECYCLE = 10_000
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$"


# --- fields that take exactly what their schema says ----------------------------------------------


class WholeNumberField(serializers.IntegerField):
    """A JSON integer (DRF's IntegerField would take "12" or true)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


class TrueFalseField(serializers.BooleanField):
    """A JSON true or false (DRF's BooleanField would take "yes" or 1)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def moment_read(value: str) -> datetime | None:
    """An ISO 8601 date-time in UTC (without an offset it is UTC); None when Python cannot
    hold it (a leap second, a year that leaves 1..9999 in UTC)."""
    try:
        moment = datetime.fromisoformat(value.upper() if value.isascii() else value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


class MomentField(serializers.DateTimeField):
    """An ISO 8601 date-time as a JSON string; without an offset it is UTC. With `lenient`
    (a usage record's times), an RFC 3339 time that cannot be held (a leap second, a year
    beyond 9999 in UTC) passes as written, for the pipeline to reject as `bad_time`; without,
    it is refused as a business rule (422)."""

    def __init__(self, *, lenient: bool = False, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)
        self.lenient = lenient

    def to_internal_value(self, value: Any) -> Any:
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601")
        moment = moment_read(value)
        if moment is not None:
            return moment
        if RFC3339.fullmatch(value):
            if self.lenient:
                return value
            raise ApplicationError(
                f"{value} is not a time this system can hold.",
                code="invalid",
                fields={
                    self.field_name or "time": ["A date-time between the years 1 and 9999 (UTC)."]
                },
            )
        return super().to_internal_value(value)


class UtcDateTimeField(serializers.DateTimeField):
    """A date-time answered in UTC (ISO 8601 with Z)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)


class ChoiceOf(serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


def _text(max_length: int, help_text: str, *, pattern: str = "") -> serializers.Field:
    if pattern:
        return serializers.RegexField(
            pattern, max_length=max_length, required=False, help_text=help_text
        )
    return TextField(max_length=max_length, required=False, allow_blank=True, help_text=help_text)


def _count(help_text: str, maximum: int = 2**31 - 1) -> WholeNumberField:
    return WholeNumberField(required=False, min_value=0, max_value=maximum, help_text=help_text)


class RecordInputSerializer(serializers.Serializer):
    """One usage record as the mediation system saw it. Only `started_at` is required; the
    rest depends on the service (voice: numbers, times, durations, disposition; SMS/MMS:
    numbers, delivery status, parts; data: IMSI or number, bytes, APN)."""

    record_id = _text(
        100,
        "The sender's own id of the record: with the batch's source it is the record's identity "
        "(sent again, it is a duplicate). Without one, the record's content is its identity.",
    )
    service = ChoiceOf(
        choices=UsageRecord.Service.choices, required=False, help_text="Default voice."
    )
    direction = ChoiceOf(
        choices=UsageRecord.Direction.choices,
        required=False,
        help_text="originating (made by the line) or terminating (received).",
    )
    calling_number = _text(80, "The A number: E.164 (+447400123456), national or a short code.")
    called_number = _text(80, "The B number, written any way the network writes it.")
    started_at = MomentField(
        lenient=True, help_text="When the call or session began (or the message was sent)."
    )
    answered_at = MomentField(
        lenient=True, required=False, allow_null=True, help_text="Voice: when answered."
    )
    ended_at = MomentField(
        lenient=True, required=False, allow_null=True, help_text="When it ended."
    )
    duration_seconds = _count("Whole seconds from start to end (voice, data).")
    billable_seconds = _count(
        "Voice: seconds from answer to end; worked out from the times when left out."
    )
    disposition = ChoiceOf(
        choices=UsageRecord.Disposition.choices,
        required=False,
        help_text="Voice: answered, busy, no_answer or failed (answered when it has an answer "
        "time or billable seconds).",
    )
    delivery_status = ChoiceOf(
        choices=UsageRecord.DeliveryStatus.choices,
        required=False,
        help_text="SMS/MMS: delivered (the default), failed or pending.",
    )
    message_parts = _count("SMS: concatenated parts (default 1).", 255)
    bytes_up = _count("Data: bytes sent by the device.", 2**62)
    bytes_down = _count("Data: bytes received by the device.", 2**62)
    apn = _text(100, "Data: the access point name.")
    roaming = TrueFalseField(required=False, help_text="Whether the line was roaming.")
    visited_mcc = _text(
        3, "Roaming: the visited network's mobile country code.", pattern=r"^[0-9]{3}$"
    )
    visited_mnc = _text(
        3, "Roaming: the visited network's mobile network code.", pattern=r"^[0-9]{2,3}$"
    )
    cell_id = _text(40, "The serving cell.")
    imsi = _text(15, "The SIM's IMSI: guides data usage to its line.", pattern=r"^[0-9]{5,15}$")

    class Meta:
        ref_name = "UsageRecordInput"


class _FastCheck:
    """The schema of RecordInputSerializer, checked at a fraction of a serializer's cost (a
    batch holds up to 10,000 records). Never looser than the serializer: a record it does not
    pass is checked by the serializer, whose answer (and error messages) stand."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}
        self.patterns: dict[str, tuple[int, re.Pattern[str]]] = {}
        self.choices: dict[str, frozenset[str]] = {}
        self.counts: dict[str, tuple[int, int]] = {}
        self.flags: set[str] = set()
        self.moments: dict[str, bool] = {}
        for name, field in RecordInputSerializer().fields.items():
            if isinstance(field, serializers.RegexField):
                regex = next(v.regex for v in field.validators if hasattr(v, "regex"))
                self.patterns[name] = (field.max_length or 0, regex)
            elif isinstance(field, ChoiceOf):
                self.choices[name] = frozenset(map(str, field.choices))
            elif isinstance(field, TextField):
                self.texts[name] = field.max_length or 0
            elif isinstance(field, WholeNumberField):
                self.counts[name] = (int(field.min_value or 0), int(field.max_value or 0))
            elif isinstance(field, TrueFalseField):
                self.flags.add(name)
            elif isinstance(field, MomentField):
                self.moments[name] = field.allow_null
        self.known = frozenset(RecordInputSerializer().fields)

    def __call__(self, record: Any) -> dict[str, Any] | None:
        """The record as the pipeline reads it, or None when the serializer must judge."""
        if not isinstance(record, dict) or "started_at" not in record:
            return None
        checked: dict[str, Any] = {}
        for name, value in record.items():
            if name not in self.known:
                continue
            if name in self.texts:
                if (
                    type(value) is not str
                    or len(value) > self.texts[name]
                    or "\x00" in value
                    or value != value.strip()
                ):
                    return None
            elif name in self.choices:
                if type(value) is not str or value not in self.choices[name]:
                    return None
            elif name in self.counts:
                low, high = self.counts[name]
                if type(value) is not int or not low <= value <= high:
                    return None
            elif name in self.flags:
                if type(value) is not bool:
                    return None
            elif name in self.moments:
                if value is None and self.moments[name]:
                    continue
                if type(value) is not str:
                    return None
                moment = moment_read(value)
                if moment is None:
                    return None
                checked[name] = moment.isoformat()
                continue
            else:
                length, regex = self.patterns[name]
                if type(value) is not str or len(value) > length or not regex.fullmatch(value):
                    return None
            checked[name] = value
        return checked


def records_check(records: Any) -> list[dict[str, Any]]:
    """The records of a batch as the pipeline reads them; a ValidationError names each field
    at fault as records.<index>.<field> (nothing is written)."""
    if not isinstance(records, list):
        raise serializers.ValidationError({"records": ["A list of usage records."]})
    if not 1 <= len(records) <= MAX_RECORDS:
        raise serializers.ValidationError(
            {"records": [f"Send 1 to {MAX_RECORDS:,} records in a batch."]}
        )
    check = _FastCheck()
    checked: list[dict[str, Any]] = []
    problems: dict[str, Any] = {}
    for index, record in enumerate(records):
        fast = check(record)
        if fast is not None:
            checked.append(fast)
            continue
        serializer = RecordInputSerializer(data=record)
        if serializer.is_valid():
            checked.append(_jsonable(serializer.validated_data))
        else:
            problems[str(index)] = serializer.errors
    if problems:
        raise serializers.ValidationError({"records": problems})
    return checked


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """A checked record as the pipeline reads it (times in ISO 8601 UTC), which is also what
    the reject queue keeps as the record's original content."""
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in values.items()
        if value is not None
    }


# --- answers -------------------------------------------------------------------------------------


class BatchSerializer(serializers.Serializer):
    """The control record of a batch: received = rated + rejected + duplicate, always."""

    public_id = serializers.UUIDField()
    source = serializers.CharField(  # type: ignore[assignment]  # a field named "source"
        source="source_name", help_text="The sending system."
    )
    kind = serializers.CharField(source="source_kind", help_text="api, file or upload")
    format = serializers.CharField(help_text="json, asterisk, freeswitch or csv")
    file_name = serializers.CharField(help_text="Empty for an API batch.")
    status = serializers.CharField(help_text="received, processing, done or failed")
    chunks_total = serializers.IntegerField(source="chunk_count")
    chunks_done = serializers.IntegerField()
    received = serializers.IntegerField(source="received_count")
    rated = serializers.IntegerField(source="rated_count")
    rejected = serializers.IntegerField(source="rejected_count")
    duplicate = serializers.IntegerField(
        source="duplicate_count", help_text="Sent before (or twice in it): never charged again."
    )
    zero_charge = serializers.IntegerField(
        source="zero_charge_count", help_text="Rated at no charge (an allowance, a free call)."
    )
    reject_reasons = serializers.DictField(
        child=serializers.IntegerField(), help_text="Machine-readable reason -> records."
    )
    total_duration_seconds = serializers.IntegerField(help_text="Of the rated calls.")
    amounts = serializers.SerializerMethodField(
        help_text="What the rated records were charged, per currency (amounts as strings)."
    )
    duplicate_of = serializers.SerializerMethodField(
        help_text="The earlier batch of the very same file, when this is a resend of it."
    )
    error = serializers.CharField(help_text="Why processing stopped, when it failed.")
    created_at = UtcDateTimeField()
    finished_at = UtcDateTimeField(allow_null=True)

    class Meta:
        ref_name = "UsageBatch"

    @extend_schema_field(MoneySerializer(many=True))
    def get_amounts(self, batch: UsageBatch) -> list[dict[str, str]]:
        return [
            Money(Decimal(amount), currency).as_json()
            for currency, amount in sorted(batch.totals_by_currency.items())
            if currency
        ]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_duplicate_of(self, batch: UsageBatch) -> str | None:
        return str(batch.duplicate_of.public_id) if batch.duplicate_of_id else None  # type: ignore[union-attr]


class OutcomeSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The record's position in `records`, from 0.")
    status = serializers.ChoiceField(
        choices=["rated", "rejected", "duplicate"],
        help_text="rated (charged or drawn from an allowance), rejected (in the reject queue, "
        "recyclable), or duplicate (sent before: not charged again).",
    )
    reject_reason = serializers.CharField(help_text="Machine-readable; empty unless rejected.")
    reject_detail = serializers.CharField(help_text="The reason in words.")
    charge = MoneySerializer(allow_null=True, help_text="What it cost; null unless rated.")

    class Meta:
        ref_name = "UsageRecordOutcome"


class BatchCreatedSerializer(BatchSerializer):
    records = OutcomeSerializer(many=True, help_text="What became of each record, in order.")

    class Meta:
        ref_name = "UsageBatchCreated"


# --- batches -------------------------------------------------------------------------------------


class PushOrViewUsage(BasePermission):
    message = "Your role or API key may not do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (user.has_perm(BillingPerm.PUSH_USAGE) or user.has_perm(BillingPerm.VIEW_USAGE))
        )


class UsageBatchListCreateApi(ListApi):
    """Batches of usage records. POST needs billing.push_usage: the records are checked,
    deduplicated, guided to their lines and rated before the answer, which carries the
    batch's control totals and what became of each record. GET lists the batches the caller
    may see, newest first (an API key: those it sent)."""

    permission_classes = [PushOrViewUsage]
    queryset = UsageBatch.objects.none()  # the schema's model; requests use the selector

    class InputSerializer(serializers.Serializer):
        source = serializers.RegexField(  # type: ignore[assignment]  # a field named "source"
            SOURCE_PATTERN,
            max_length=120,
            help_text="The sending system, e.g. `mediation-1`: a record's identity is (source, "
            "record_id), so one system's resend is known as such.",
        )
        records = serializers.ListField(
            child=RecordInputSerializer(),
            allow_empty=False,
            min_length=1,
            max_length=MAX_RECORDS,
            help_text=f"1 to {MAX_RECORDS:,} usage records.",
        )

        class Meta:
            ref_name = "UsageBatchCreate"

    class SourceSerializer(serializers.Serializer):
        source = serializers.RegexField(SOURCE_PATTERN, max_length=120)  # type: ignore[assignment]

    @extend_schema(
        operation_id="usage_batch_list",
        summary="List the usage batches the caller may see",
        tags=TAGS,
        responses={200: BatchSerializer(many=True), **errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        batches = usage_batches_for(request.user).select_related("duplicate_of")
        return self.paginated(batches, BatchSerializer)

    @extend_schema(
        operation_id="usage_batch_create",
        summary="Send a batch of usage records",
        description=f"Up to {MAX_RECORDS:,} records. A batch that breaks the schema is refused "
        "whole (400, each field named as `records.<index>.<field>`) and nothing is written.",
        tags=TAGS,
        request=InputSerializer,
        responses={201: BatchCreatedSerializer, **errors(400, 401, 403, 422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        require_perm(request, BillingPerm.PUSH_USAGE)
        body = request.data if isinstance(request.data, dict) else {}
        problems: dict[str, Any] = {}
        source = self.SourceSerializer(data=body)
        if not source.is_valid():
            problems.update(source.errors)
        records: list[dict[str, Any]] = []
        try:
            records = records_check(body.get("records"))
        except serializers.ValidationError as error:
            problems.update(error.detail)  # type: ignore[arg-type]
        if problems:
            raise serializers.ValidationError(problems)
        source_name = source.validated_data["source"]
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if key:
            earlier = UsageBatch.objects.filter(
                source_name=source_name, idempotency_key=key
            ).first()
            if earlier is not None and earlier.created_by_id != request.user.pk:
                raise IdempotencyKeyReused()
        batch = usage_batch_ingest_records(
            records=records,
            source=source_name,
            actor=actor_of(request),
            idempotency_key=key,
        )
        batch = usage_batch_get_for(request.user, batch.public_id)
        answer = BatchSerializer(batch).data
        # OutcomeSerializer documents these; written out directly (10,000 a batch)
        answer["records"] = [
            {**outcome, "charge": outcome["charge"].as_json() if outcome["charge"] else None}
            for outcome in usage_batch_outcomes(batch=batch)
        ]
        return Response(answer, status=status.HTTP_201_CREATED)


class UsageBatchDetailApi(APIView):
    """One batch's control record; someone else's batch answers 404."""

    permission_classes = [PushOrViewUsage]

    @extend_schema(
        operation_id="usage_batch_retrieve",
        summary="One usage batch with its control totals",
        tags=TAGS,
        responses={200: BatchSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        batch = usage_batch_get_for(request.user, public_id)
        return Response(BatchSerializer(batch).data)


# --- the reject queue ----------------------------------------------------------------------------


class RejectFilterSerializer(serializers.Serializer):
    reason = ChoiceOf(choices=UsageRecord.RejectReason.choices, required=False)
    batch = serializers.UUIDField(required=False, help_text="A batch's public_id.")
    since = MomentField(required=False, help_text="Usage that started at or after this time.")
    until = MomentField(required=False, help_text="Usage that started before this time.")
    number = serializers.RegexField(
        r"^\+?[0-9]{1,20}$",
        max_length=21,
        required=False,
        help_text="Digits of a calling or called number or an IMSI (any part).",
    )

    class Meta:
        ref_name = "UsageRejectFilter"


def _rejects(request: Request, filters: dict[str, Any]) -> Any:
    batch = None
    if filters.get("batch"):
        batch = UsageBatch.objects.filter(public_id=filters["batch"]).first()
        if batch is None or not usage_batches_for(request.user).filter(pk=batch.pk).exists():
            return UsageRecord.objects.none()
    return usage_rejects_for(
        request.user,
        reason=filters.get("reason", ""),
        batch=batch,
        since=filters.get("since"),
        until=filters.get("until"),
        number=filters.get("number", "").lstrip("+"),
    )


class RejectSerializer(serializers.Serializer):
    record_id = serializers.UUIDField(
        source="dedup_key", help_text="The record's identity; names it when recycling it."
    )
    batch = serializers.UUIDField(source="batch.public_id")
    line_number = serializers.IntegerField(help_text="Its row in the file, or 1 + its index.")
    source_record_id = serializers.CharField()
    reject_reason = serializers.CharField(help_text="Machine-readable.")
    reject_detail = serializers.CharField(help_text="The reason in words.")
    raw = serializers.CharField(help_text="The original row (or JSON record), as received.")
    service = serializers.CharField()
    calling_number = serializers.CharField()
    called_number = serializers.CharField()
    started_at = UtcDateTimeField(
        help_text="When the usage began (when unreadable: when its batch arrived)."
    )
    time_known = serializers.BooleanField()
    received_at = UtcDateTimeField(source="created_at")
    recycled = serializers.SerializerMethodField(
        help_text="Earlier recycles: when, by whom (user id), why and the reason it had then."
    )

    class Meta:
        ref_name = "UsageReject"

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_recycled(self, record: UsageRecord) -> list[dict[str, Any]]:
        return list((record.rating_trace or {}).get("recycled", []))


def _filters(serializer: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    blank_query_refuse(request, serializer().fields)
    data = serializer(data=request.query_params)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class UsageRejectListApi(ListApi):
    """Rejected records waiting for their cause to be fixed, oldest first, each with its
    original row and reason; paged by cursor (follow `next`). Needs billing.view_usage; an
    API key sees the rejects of its own batches."""

    pagination_class = CursorPagination  # type: ignore[assignment]
    filter_backends = []

    @extend_schema(
        operation_id="usage_reject_list",
        summary="List the reject queue",
        tags=TAGS,
        parameters=[RejectFilterSerializer],
        responses={
            200: RejectSerializer(many=True),
            404: OpenApiResponse(ErrorSerializer, "The cursor is not one this list gave."),
            **errors(400, 401, 403, 422),
        },
    )
    def get(self, request: Request) -> Response:
        require_perm(request, BillingPerm.VIEW_USAGE)
        filters = _filters(RejectFilterSerializer, request)
        rejects = _rejects(request, filters).select_related("batch")
        return self.paginated(rejects, RejectSerializer)


class UsageRejectRecycleApi(APIView):
    """Run rejected records again once their cause is fixed (a line created, a tariff loaded):
    each is read again from its original row, checked, guided and rated, and ends rated or
    rejected with its reason now. Name the records by `record_ids`, or take every one matching
    `filter` (at most 10,000 at a time, oldest first: `remaining` says how many more match).
    Needs billing.manage_usage; each record keeps who recycled it, when and why."""

    class InputSerializer(serializers.Serializer):
        record_ids = serializers.ListField(
            child=serializers.UUIDField(),
            required=False,
            allow_empty=False,
            min_length=1,
            max_length=MAX_RECYCLE,
            help_text="Rejected records' record_id (from the reject list).",
        )
        filter = RejectFilterSerializer(required=False, help_text="Every reject matching it.")
        reason = TextField(max_length=200, help_text="Why they are recycled (kept on each).")

        class Meta:
            ref_name = "UsageRecycle"

    class OutputSerializer(serializers.Serializer):
        rated = serializers.IntegerField(help_text="Now rated.")
        rejected = serializers.IntegerField(help_text="Rejected again (see their reason now).")
        skipped = serializers.IntegerField(
            help_text="record_ids that are not in the caller's reject queue (unknown, or no "
            "longer rejected)."
        )
        remaining = serializers.IntegerField(help_text="Rejects still matching the filter.")

        class Meta:
            ref_name = "UsageRecycleOutcome"

    @extend_schema(
        operation_id="usage_reject_recycle",
        summary="Recycle rejected usage records",
        tags=TAGS,
        request=InputSerializer,
        responses={200: OutputSerializer, **errors(400, 401, 403, 422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        require_perm(request, BillingPerm.MANAGE_USAGE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ids, chosen = values.get("record_ids"), values.get("filter")
        if (ids is None) == (chosen is None):
            refuse({"record_ids": ["Give either record_ids or filter, not both."]})
        if not values["reason"].strip():
            refuse({"reason": ["Say why these records are recycled."]})
        if ids is not None:
            wanted = set(ids)
            records = list(_rejects(request, {}).filter(dedup_key__in=wanted))
            skipped = len(wanted) - len(records)
        else:
            records = list(_rejects(request, chosen)[:MAX_RECYCLE])
            skipped = 0
        counts = usage_recycle(records=records, actor=actor_of(request), reason=values["reason"])
        remaining = _rejects(request, chosen).count() if chosen is not None else 0
        return Response(
            self.OutputSerializer(
                {
                    "rated": counts["rated"],
                    "rejected": counts["rejected"],
                    "skipped": skipped + counts["skipped"],
                    "remaining": remaining,
                }
            ).data
        )
