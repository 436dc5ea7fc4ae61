"""Every change of a balance: opening a bucket, posting to its ledger, adjusting, transferring
and expiring. Nothing else writes buckets or ledger entries.

`ledger_post` is the one door every credit and debit goes through (top-ups, vouchers, usage,
adjustments, transfers, expiry). It changes the balance with one conditional UPDATE — the
row is changed only if the bucket may take the amount — and writes the entry in the same
transaction, so under any number of concurrent debits the balance never goes below its floor
and always equals the sum of its entries. A repeated idempotency key returns the first entry
and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing.balances.models import BalanceAdjustment, BalanceDebt, Bucket, LedgerEntry
from common.actors import system_actor
from common.audit import audit_record, changes_created
from common.bulk import rows_write
from common.errors import ApplicationError, InvalidTransition
from common.models import DecimalSum
from common.money import minor_units

ZERO = Decimal("0")
UNIT_SERVICES = {
    Bucket.Unit.SECONDS: "voice",
    Bucket.Unit.MESSAGES: "sms",
    Bucket.Unit.BYTES: "data",
}


class BalanceRefused(ApplicationError):
    """A debit the bucket cannot take; `code` says why (insufficient_balance, bucket_suspended,
    bucket_expired, bucket_not_yet_valid)."""


class IdempotencyConflict(ApplicationError):
    code = "idempotency_key_reused"


def _amount(value: Decimal | int | str, *, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        raise ApplicationError(
            f"{value!r} is not an amount.", fields={field: ["Enter a number."]}
        ) from None
    if not amount.is_finite():
        raise ApplicationError("The amount must be a number.", fields={field: ["Not a number."]})
    if amount != amount.quantize(Decimal("0.0001")):
        raise ApplicationError(
            "Amounts have at most 4 decimal places.", fields={field: ["At most 4 decimals."]}
        )
    return amount


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ApplicationError("Say why.", fields={"reason": ["A reason is required."]})
    return text[:200]


def bucket_open(
    *,
    account: Any,
    kind: str,
    unit: str,
    amount: Decimal | int | str,
    name: str,
    source_key: str,
    actor: Any,
    reason: str,
    subscriber: Any = None,
    currency: str = "",
    service: str = "",
    scope: str = "all",
    zone: str = "",
    priority: int = 100,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    lowest_balance: Decimal = ZERO,
) -> Bucket:
    """Open a bucket holding `amount` (its opening entry). Idempotent by `source_key`: what
    opens buckets (an order, a voucher, a plan's period) names it after its origin, so running
    it twice opens one bucket."""
    opening = _amount(amount)
    if opening < 0:
        raise ApplicationError("A bucket opens with nothing or more.", fields={"amount": ["≥ 0"]})
    if unit not in Bucket.Unit.values:
        raise ApplicationError(f"Unknown unit {unit!r}.", fields={"unit": ["Unknown unit."]})
    if kind not in Bucket.Kind.values:
        raise ApplicationError(f"Unknown kind {kind!r}.", fields={"kind": ["Unknown kind."]})
    if unit == Bucket.Unit.MONEY:
        if currency != account.currency:
            raise ApplicationError(
                f"The account is in {account.currency}; a money bucket cannot be in {currency}.",
                code="currency_mismatch",
                fields={"currency": [f"Use {account.currency}."]},
            )
        service = ""
    else:
        currency = ""
        service = service or UNIT_SERVICES[Bucket.Unit(unit)]
    if subscriber is not None and subscriber.account_id != account.pk:
        raise ApplicationError("That line is not on this account.", code="not_found")
    start = valid_from or timezone.now()
    if valid_until is not None and valid_until <= start:
        raise ApplicationError(
            "A bucket must end after it starts.", fields={"valid_until": ["After the start."]}
        )
    reason = _reason(reason)
    with transaction.atomic():
        bucket, created = Bucket.objects.get_or_create(
            source_key=source_key,
            defaults={
                "account": account,
                "subscriber": subscriber,
                "kind": kind,
                "unit": unit,
                "currency": currency,
                "service": service,
                "scope": scope,
                "zone": zone,
                "priority": priority,
                "valid_from": start,
                "valid_until": valid_until,
                "lowest_balance": lowest_balance,
                "opening_amount": opening,
                "name": name[:200],
            },
        )
        if created and opening:
            ledger_post(
                bucket=bucket,
                amount=opening,
                kind=LedgerEntry.Kind.OPENING,
                actor=actor,
                reason=reason,
                reference=source_key,
                idempotency_key=f"open:{source_key}",
            )
            bucket.refresh_from_db(fields=["balance"])
    return bucket


@dataclass(frozen=True)
class BucketOpening:
    """One bucket for `buckets_open_bulk`: a line's allowance or bonus opened with `amount`."""

    subscriber_id: int
    account_id: int
    kind: str
    unit: str
    amount: Decimal
    name: str
    source_key: str
    valid_from: datetime
    valid_until: datetime | None
    service: str = ""
    scope: str = "all"
    zone: str = ""
    currency: str = ""
    priority: int = 100


def buckets_open_bulk(openings: Iterable[BucketOpening], *, actor: Any, reason: str) -> int:
    """Open many buckets at once (demo data, migrations of whole bases): COPY on PostgreSQL,
    each with its opening entry, as `bucket_open` would. Source keys already open are an error
    here (the caller picks the lines without them). Returns how many were opened."""
    reason = _reason(reason)
    now = timezone.now()
    opened = 0
    batch: list[BucketOpening] = []
    with transaction.atomic():
        for opening in openings:
            batch.append(opening)
            if len(batch) >= 5000:
                opened += _buckets_write(batch, actor=actor, reason=reason, now=now)
                batch = []
        if batch:
            opened += _buckets_write(batch, actor=actor, reason=reason, now=now)
    return opened


def _buckets_write(batch: list[BucketOpening], *, actor: Any, reason: str, now: datetime) -> int:
    rows_write(
        Bucket,
        [
            "created_at", "updated_at", "public_id", "account_id", "subscriber_id", "kind",
            "unit", "currency", "service", "scope", "zone", "priority", "status", "valid_from",
            "valid_until", "opening_amount", "balance", "reserved", "lowest_balance", "name",
            "source_key",
        ],
        (
            (
                now, now, uuid.uuid4(), o.account_id, o.subscriber_id, o.kind, o.unit,
                o.currency, o.service, o.scope, o.zone, o.priority, Bucket.Status.ACTIVE,
                o.valid_from, o.valid_until, o.amount, o.amount, ZERO, ZERO, o.name[:200],
                o.source_key,
            )
            for o in batch
        ),
    )  # fmt: skip
    opened = Bucket.objects.filter(source_key__in=[o.source_key for o in batch]).values_list(
        "pk", "source_key", "unit", "currency", "opening_amount"
    )
    rows_write(
        LedgerEntry,
        [
            "public_id", "bucket_id", "kind", "amount", "unit", "currency", "balance_after",
            "reference", "actor_id", "reason", "idempotency_key", "created_at",
        ],
        (
            (
                uuid.uuid4(), pk, LedgerEntry.Kind.OPENING, amount, unit, currency, amount,
                key[:120], actor.pk, reason, f"open:{key}", now,
            )
            for pk, key, unit, currency, amount in opened
            if amount
        ),
    )  # fmt: skip
    return len(batch)


def ledger_post(
    *,
    bucket: Bucket,
    amount: Decimal | int | str,
    kind: str,
    actor: Any,
    reason: str,
    reference: str = "",
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Credit (positive) or debit (negative) one bucket.

    A debit is taken only from an active bucket inside its validity and only as far as its
    floor (nothing below zero, or below the account's credit limit on a main balance); else
    BalanceRefused with the reason's code, and nothing is written. Credits are taken by any
    bucket that has not expired (a suspended bonus may still be refunded)."""
    value = _amount(amount)
    if value == 0:
        raise ApplicationError("Nothing to post.", fields={"amount": ["Not zero."]})
    reason = _reason(reason)
    at = now or timezone.now()
    if idempotency_key:
        found = _entry_for_key(idempotency_key, bucket=bucket, amount=value, kind=kind)
        if found is not None:
            return found
    try:
        with transaction.atomic():
            after = _balance_move(bucket, value, at=at)
            if after is None:
                raise _refusal(bucket.pk, value, at=at)
            entry = _entry_write(
                bucket,
                value,
                balance_after=after,
                kind=kind,
                actor=actor,
                reason=reason,
                reference=reference,
                idempotency_key=idempotency_key,
                at=at,
            )
            if value > 0 and bucket.unit == Bucket.Unit.MONEY and kind != LedgerEntry.Kind.USAGE:
                _debts_settle(bucket, actor=actor, at=at)
            return entry
    except IntegrityError:
        # the same key written by a concurrent request: its entry is the answer, ours rolled back
        if idempotency_key:
            found = _entry_for_key(idempotency_key, bucket=bucket, amount=value, kind=kind)
            if found is not None:
                return found
        raise


def _entry_write(
    bucket: Bucket,
    amount: Decimal,
    *,
    balance_after: Decimal,
    kind: str,
    actor: Any,
    reason: str,
    reference: str,
    idempotency_key: str | None,
    at: datetime,
) -> LedgerEntry:
    """The entry of a balance move made in the same transaction (the only writer of entries)."""
    return LedgerEntry.objects.create(
        bucket_id=bucket.pk,
        kind=kind,
        amount=amount,
        unit=bucket.unit,
        currency=bucket.currency,
        balance_after=balance_after,
        reference=reference[:120],
        actor=actor,
        reason=reason,
        idempotency_key=idempotency_key or None,
        created_at=at,
    )


def _entry_for_key(key: str, *, bucket: Bucket, amount: Decimal, kind: str) -> LedgerEntry | None:
    entry = LedgerEntry.objects.filter(idempotency_key=key).first()
    if entry is None:
        return None
    if (entry.bucket_id, entry.amount, entry.kind) != (bucket.pk, amount, kind):
        raise IdempotencyConflict(
            "This idempotency key was used for a different change.",
            fields={"idempotency_key": ["Already used for another change."]},
        )
    return entry


def _debts_settle(bucket: Bucket, *, actor: Any, at: datetime) -> None:
    """Money credited to a line's bucket first pays what the line owes (oldest debt first, in
    the bucket's currency), each payment an entry of its own; the caller's transaction holds the
    bucket's row."""
    debts = BalanceDebt.objects.filter(
        account_id=bucket.account_id, status=BalanceDebt.Status.OPEN, currency=bucket.currency
    )
    if bucket.subscriber_id is not None:
        debts = debts.filter(subscriber_id=bucket.subscriber_id)
    available = max(Bucket.objects.get(pk=bucket.pk).available, ZERO)  # the row is ours
    for debt in debts.select_for_update().order_by("created_at", "pk"):
        take = min(debt.outstanding, available)
        if take <= 0:
            return
        available -= take
        after = _balance_move(bucket, -take, at=at)
        if after is None:  # a bucket that may not be spent (suspended): nothing is taken
            return
        _entry_write(
            bucket,
            -take,
            balance_after=after,
            kind=LedgerEntry.Kind.SETTLEMENT,
            actor=actor,
            reason="Owed usage paid from the credit",
            reference=f"debt {debt.public_id}",
            idempotency_key=None,
            at=at,
        )
        settled = debt.settled_amount + take
        BalanceDebt.objects.filter(pk=debt.pk).update(
            settled_amount=settled,
            status=BalanceDebt.Status.SETTLED
            if settled == debt.amount
            else BalanceDebt.Status.OPEN,
            updated_at=at,
        )


def _balance_move(bucket: Bucket, amount: Decimal, *, at: datetime) -> Decimal | None:
    """Move the balance if the bucket may take it; the new balance, or None when refused. One
    statement: the row lock it takes serialises concurrent posts to the bucket, and the
    condition is checked against the row as it is then."""
    if amount < 0:
        allowed = (
            "status = 'active' AND valid_from <= %s "
            "AND (valid_until IS NULL OR valid_until > %s) "
            "AND balance + %s >= reserved + lowest_balance"
        )
        params: list[Any] = [at, at, amount]
    else:
        allowed, params = "status <> 'expired'", []
    if connection.vendor != "postgresql":
        return _balance_move_in_python(bucket, amount, at=at)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{Bucket._meta.db_table}" SET balance = balance + %s, updated_at = %s '
            f"WHERE id = %s AND {allowed} RETURNING balance",
            [amount, at, bucket.pk, *params],
        )
        row = cursor.fetchone()
    return None if row is None else Decimal(row[0])


def _balance_move_in_python(bucket: Bucket, amount: Decimal, *, at: datetime) -> Decimal | None:
    """SQLite (the demo) adds decimals as floats, so the sum is worked out here; its writers
    are serialised by the database lock, which this transaction holds from its first write."""
    Bucket.objects.filter(pk=bucket.pk).update(updated_at=at)  # take the write lock first
    row = Bucket.objects.get(pk=bucket.pk)
    if row.status == Bucket.Status.EXPIRED:
        return None
    if amount < 0 and (
        row.status != Bucket.Status.ACTIVE
        or row.valid_from > at
        or (row.valid_until is not None and row.valid_until <= at)
        or row.balance + amount < row.reserved + row.lowest_balance
    ):
        return None
    after: Decimal = row.balance + amount
    Bucket.objects.filter(pk=bucket.pk).update(balance=after)
    return after


def _refusal(bucket_pk: int, amount: Decimal, *, at: datetime) -> ApplicationError:
    bucket = Bucket.objects.filter(pk=bucket_pk).first()
    if bucket is None:
        return ApplicationError("No such bucket.", code="not_found")
    if bucket.status == Bucket.Status.EXPIRED:
        return BalanceRefused("This bucket has expired.", code="bucket_expired")
    if bucket.status == Bucket.Status.SUSPENDED:
        return BalanceRefused("This bucket is suspended.", code="bucket_suspended")
    if bucket.valid_from > at:
        return BalanceRefused("This bucket is not valid yet.", code="bucket_not_yet_valid")
    if bucket.valid_until is not None and bucket.valid_until <= at:
        return BalanceRefused("This bucket has expired.", code="bucket_expired")
    return BalanceRefused(
        f"Not enough balance: {bucket.available} {bucket.unit_label} available, {-amount} asked.",
        code="insufficient_balance",
    )


def usage_draws_post(
    draws: dict[int, Decimal], *, actor: Any, reason: str, reference: str, at: datetime
) -> None:
    """Debit many buckets for usage already rated against them (file rating of a chunk): one
    UPDATE for all the buckets and one entry each, in the caller's transaction. The caller
    holds the buckets' row locks and drew no more than each had available, so the database's
    never-overspent check holding here is the proof, not a decision."""
    items = sorted((pk, amount) for pk, amount in draws.items() if amount)
    if not items:
        return
    if connection.vendor == "postgresql":
        # the balances and their entries in one statement: a chunk may draw on thousands
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH moved AS ("
                f'UPDATE "{Bucket._meta.db_table}" b SET balance = b.balance - v.amount, '
                "updated_at = %s FROM unnest(%s::bigint[], %s::numeric[]) AS v(pk, amount) "
                "WHERE b.id = v.pk RETURNING b.id, v.amount, b.unit, b.currency, b.balance) "
                f'INSERT INTO "{LedgerEntry._meta.db_table}" (public_id, bucket_id, kind, '
                "amount, unit, currency, balance_after, reference, actor_id, reason, "
                "idempotency_key, created_at) "
                "SELECT gen_random_uuid(), id, %s, -amount, unit, currency, balance, %s, %s, "
                "%s, NULL, %s FROM moved",
                [
                    at,
                    "{" + ",".join(str(pk) for pk, _ in items) + "}",
                    "{" + ",".join(str(amount) for _, amount in items) + "}",
                    LedgerEntry.Kind.USAGE,
                    reference[:120],
                    actor.pk,
                    reason[:200],
                    at,
                ],
            )
        return
    for pk, amount in items:
        bucket = Bucket.objects.get(pk=pk)
        after = bucket.balance - amount
        Bucket.objects.filter(pk=pk).update(balance=after, updated_at=at)
        _entry_write(
            bucket,
            -amount,
            balance_after=after,
            kind=LedgerEntry.Kind.USAGE,
            actor=actor,
            reason=reason[:200],
            reference=reference,
            idempotency_key=None,
            at=at,
        )


@dataclass(frozen=True)
class LineCharge:
    """What a prepaid line was charged for usage in one chunk of records."""

    account_id: int
    currency: str
    amount: Decimal


def usage_charges_debit(
    charges: dict[int, LineCharge], *, reference: str, at: datetime
) -> dict[int, Decimal]:
    """Debit prepaid lines for usage that already happened (rated from files): from each
    line's active money buckets and its account's shared ones, lowest priority number first,
    then the one ending soonest, each down to its floor; what they cannot cover becomes a
    `BalanceDebt`. The buckets are locked in pk order for the caller's transaction. Returns the
    debt per line (lines fully covered are left out)."""
    wanted = {pk: charge for pk, charge in charges.items() if charge.amount > 0}
    if not wanted:
        return {}
    accounts = {charge.account_id for charge in wanted.values()}
    buckets = (
        Bucket.objects.filter(
            Q(subscriber_id__in=wanted) | Q(account_id__in=accounts, subscriber__isnull=True),
            unit=Bucket.Unit.MONEY,
            status=Bucket.Status.ACTIVE,
            valid_from__lte=at,
        )
        .exclude(valid_until__lte=at)
        .order_by("pk")
    )
    if connection.vendor == "postgresql":
        buckets = buckets.select_for_update(of=("self",))
    available: dict[int, Decimal] = {}
    own: dict[int, list[tuple[Any, ...]]] = {}  # by line
    shared: dict[int, list[tuple[Any, ...]]] = {}  # by account
    rows = buckets.values_list(
        "pk", "subscriber_id", "account_id", "currency", "priority", "valid_until", "balance",
        "reserved", "lowest_balance",
    )  # fmt: skip
    for pk, subscriber_id, account_id, currency, priority, until, *money in rows:
        balance, reserved, lowest = money
        available[pk] = max(balance - reserved - lowest, ZERO)
        order = (priority, until or datetime.max.replace(tzinfo=UTC), pk, currency)
        if subscriber_id is None:
            shared.setdefault(account_id, []).append(order)
        else:
            own.setdefault(subscriber_id, []).append(order)
    draws: dict[int, Decimal] = {}
    debts: dict[int, Decimal] = {}
    for line_pk in sorted(wanted):
        charge = wanted[line_pk]
        left = charge.amount
        candidates = sorted(own.get(line_pk, []) + shared.get(charge.account_id, []))
        for _priority, _until, pk, currency in candidates:
            if left <= 0:
                break
            if currency != charge.currency:
                continue
            take = min(left, available[pk])
            if take > 0:
                available[pk] -= take
                draws[pk] = draws.get(pk, ZERO) + take
                left -= take
        if left > 0:
            debts[line_pk] = left
    usage_draws_post(draws, actor=system_actor(), reason="Usage rated", reference=reference, at=at)
    BalanceDebt.objects.bulk_create(
        BalanceDebt(
            account_id=wanted[pk].account_id,
            subscriber_id=pk,
            amount=amount,
            currency=wanted[pk].currency,
            reference=reference[:120],
            reason="Usage beyond the balance",
            created_at=at,
        )
        for pk, amount in sorted(debts.items())
    )
    return debts


# --- online charging: units and money taken live, all or nothing -------------------------------

# which allowance scopes a destination may draw on (international, premium-rate and short codes
# draw on none; a roaming zone's buckets are for usage in that zone)
SCOPES_FOR_DESTINATION = {"on_net": ("on_net", "all"), "off_net": ("off_net", "all")}


def units_take(
    *,
    subscriber: Any,
    service: str,
    quantity: Decimal,
    destination_class: str,
    actor: Any,
    reference: str,
    at: datetime,
) -> LedgerEntry | None:
    """Take `quantity` units of `service` (messages, seconds, bytes) from one of the line's
    allowance buckets that holds them all: the scope matching the destination first, then "all";
    the bucket ending soonest first. None when no bucket holds them (the caller prices the
    usage instead). Each try is one conditional UPDATE: never more than a bucket holds."""
    if quantity <= 0:
        return None
    ranked = _allowances_for(subscriber, service, destination_class, at)
    for bucket in ranked:
        if bucket.available < quantity:
            continue
        after = _balance_move(bucket, -quantity, at=at)
        if after is not None:
            return _entry_write(
                bucket, -quantity, balance_after=after, kind=LedgerEntry.Kind.USAGE,
                actor=actor, reason="Online charging", reference=reference,
                idempotency_key=None, at=at,
            )  # fmt: skip
    return None


def money_take(
    *,
    subscriber: Any,
    amount: Decimal,
    currency: str,
    actor: Any,
    reference: str,
    at: datetime,
) -> list[LedgerEntry]:
    """Take `amount` from the line's money buckets (and its account's shared ones), lowest
    priority number first, then the one ending soonest, each down to its floor; all of it or
    nothing (BalanceRefused, insufficient_balance, raised before anything is written). The
    buckets are locked in pk order for the caller's transaction, so concurrent takes never
    spend the same money twice."""
    if amount <= 0:
        return []
    buckets = _money_buckets_locked(subscriber, currency, at)
    left, draws = amount, []
    for bucket in buckets:
        take = min(left, max(bucket.available, ZERO))
        if take > 0:
            draws.append((bucket, take))
            left -= take
        if left <= 0:
            break
    if left > 0:
        available = amount - left
        raise BalanceRefused(
            f"Not enough balance: {available} {currency} available, {amount} asked.",
            code="insufficient_balance",
        )
    entries = []
    for bucket, take in draws:
        after = _balance_move(bucket, -take, at=at)
        if after is None:  # cannot happen under the rows' locks: fail whole, never half
            raise RuntimeError(f"bucket {bucket.pk} changed under its row lock")
        entries.append(
            _entry_write(
                bucket,
                -take,
                balance_after=after,
                kind=LedgerEntry.Kind.USAGE,
                actor=actor,
                reason="Online charging",
                reference=reference,
                idempotency_key=None,
                at=at,
            )
        )
    return entries


def _allowances_for(
    subscriber: Any, service: str, destination_class: str, at: datetime
) -> list[Bucket]:
    """The line's allowance buckets `service` usage to this destination may draw on: the scope
    matching the destination first, then "all"; the one ending soonest first."""
    scopes = ("all",) if service == "data" else SCOPES_FOR_DESTINATION.get(destination_class)
    if not scopes:
        return []
    candidates = (
        Bucket.objects.filter(
            subscriber=subscriber,
            kind=Bucket.Kind.ALLOWANCE,
            service=service,
            scope__in=scopes,
            status=Bucket.Status.ACTIVE,
            valid_from__lte=at,
        )
        .exclude(valid_until__lte=at)
        .order_by("valid_until", "pk")
    )
    return sorted(candidates, key=lambda bucket: scopes.index(bucket.scope))


def units_reserve(
    *, subscriber: Any, service: str, destination_class: str, requested: Decimal, at: datetime
) -> tuple[Bucket, Decimal] | None:
    """Hold up to `requested` units (seconds, bytes) of one of the line's allowance buckets for a
    charging session: the bucket and what it holds, or None when none has any left."""
    for candidate in _allowances_for(subscriber, service, destination_class, at):
        # the row locked, then what it has left read again: two sessions never hold the same
        bucket = Bucket.objects.select_for_update().get(pk=candidate.pk)
        hold = min(requested, bucket.available)
        if hold <= 0 or bucket.status != Bucket.Status.ACTIVE:
            continue
        Bucket.objects.filter(pk=bucket.pk).update(reserved=bucket.reserved + hold, updated_at=at)
        return bucket, hold
    return None


def money_reserve(
    *, subscriber: Any, amount: Decimal, currency: str, at: datetime
) -> list[tuple[Bucket, Decimal]]:
    """Hold `amount` of the line's money (in the order money is spent) for a charging session,
    all or nothing (BalanceRefused). The buckets are locked in pk order for the caller's
    transaction."""
    left, holds = amount, []
    for bucket in _money_buckets_locked(subscriber, currency, at):
        take = min(left, max(bucket.available, ZERO))
        if take > 0:
            holds.append((bucket, take))
            left -= take
        if left <= 0:
            break
    if left > 0:
        raise BalanceRefused(
            f"Not enough balance: {amount - left} {currency} available, {amount} asked.",
            code="insufficient_balance",
        )
    for bucket, take in holds:
        Bucket.objects.filter(pk=bucket.pk).update(reserved=bucket.reserved + take, updated_at=at)
    return holds


def reservation_settle(
    *,
    bucket_pk: int,
    held: Decimal,
    used: Decimal,
    actor: Any,
    reference: str,
    at: datetime,
) -> None:
    """End a session's hold on a bucket: `used` (at most what was held) is debited with a
    usage entry, the rest released."""
    used = min(max(used, ZERO), held)
    bucket = Bucket.objects.select_for_update().get(pk=bucket_pk)
    after = bucket.balance - used
    Bucket.objects.filter(pk=bucket_pk).update(
        balance=after, reserved=bucket.reserved - held, updated_at=at
    )
    if used:
        _entry_write(
            bucket, -used, balance_after=after, kind=LedgerEntry.Kind.USAGE, actor=actor,
            reason="Online charging", reference=reference, idempotency_key=None, at=at,
        )  # fmt: skip


def _money_buckets_locked(subscriber: Any, currency: str, at: datetime) -> list[Bucket]:
    """The line's spendable money buckets (and its account's shared ones) in the currency,
    locked in pk order, returned in the order money is spent: priority, then ending soonest."""
    buckets = list(
        Bucket.objects.select_for_update(of=("self",))
        .filter(
            Q(subscriber=subscriber) | Q(account_id=subscriber.account_id, subscriber__isnull=True),
            unit=Bucket.Unit.MONEY,
            currency=currency,
            status=Bucket.Status.ACTIVE,
            valid_from__lte=at,
        )
        .exclude(valid_until__lte=at)
        .order_by("pk")
    )
    buckets.sort(
        key=lambda b: (b.priority, b.valid_until or datetime.max.replace(tzinfo=UTC), b.pk)
    )
    return buckets


# --- people's changes: adjustments and transfers -----------------------------------------------


def adjustment_limit(bucket: Bucket) -> Decimal:
    """Above this (either way) an adjustment waits for a supervisor: money in the bucket's
    currency, units in the bucket's unit."""
    limits = settings.BALANCE_ADJUSTMENT_APPROVAL_LIMITS
    return Decimal(str(limits.get(bucket.unit, limits.get("money", "0"))))


def balance_adjust(
    *, bucket: Bucket, amount: Decimal | int | str, actor: Any, reason: str
) -> BalanceAdjustment:
    """A CSR's correction of a balance. Within the limit, or asked by someone who may approve,
    it is applied at once; above it, it waits for a supervisor (`balance_adjustment_decide`).
    Audited either way."""
    value = _amount(amount)
    if value == 0:
        raise ApplicationError("Nothing to adjust.", fields={"amount": ["Not zero."]})
    if bucket.unit == Bucket.Unit.MONEY:
        places = minor_units(bucket.currency)
        if value != value.quantize(Decimal(1).scaleb(-places)):
            message = f"{bucket.currency} amounts have at most {places} decimal places."
            raise ApplicationError(message, fields={"amount": [message]})
    reason = _reason(reason)
    needs_approval = abs(value) > adjustment_limit(bucket) and not actor.has_perm(
        "billing.approve_adjustments"
    )
    with transaction.atomic():
        adjustment = BalanceAdjustment.objects.create(
            bucket=bucket, amount=value, reason=reason, requested_by=actor
        )
        audit_record(
            actor=actor,
            instance=adjustment,
            action="requested" if needs_approval else "applied",
            changes=changes_created({"amount": value, "bucket": bucket.name}),
            reason=reason,
        )
        if not needs_approval:
            _adjustment_apply(adjustment, actor=actor, reason=reason)
    adjustment.refresh_from_db()
    return adjustment


def balance_adjustment_decide(
    *, adjustment: BalanceAdjustment, approve: bool, actor: Any, reason: str
) -> BalanceAdjustment:
    """A supervisor approves (the entry is written) or rejects a waiting adjustment; never
    their own request."""
    reason = _reason(reason)
    if not actor.has_perm("billing.approve_adjustments"):
        raise ApplicationError("Your role may not approve adjustments.", code="permission_denied")
    if adjustment.requested_by_id == actor.pk:
        raise ApplicationError(
            "Someone else must approve your own adjustment.", code="own_adjustment"
        )
    target = BalanceAdjustment.Status.APPLIED if approve else BalanceAdjustment.Status.REJECTED
    with transaction.atomic():
        locked = BalanceAdjustment.objects.select_for_update().get(pk=adjustment.pk)
        if target not in BalanceAdjustment.TRANSITIONS[locked.status]:
            raise InvalidTransition(f"This adjustment is already {locked.get_status_display()}.")
        if approve:
            _adjustment_apply(locked, actor=actor, reason=reason)
        else:
            BalanceAdjustment.objects.filter(pk=locked.pk).update(
                status=target, decided_by=actor, decided_at=timezone.now(), decision_reason=reason
            )
        audit_record(
            actor=actor,
            instance=locked,
            action="approved" if approve else "rejected",
            changes={"status": [locked.status, target]},
            reason=reason,
        )
    locked.refresh_from_db()
    return locked


def _adjustment_apply(adjustment: BalanceAdjustment, *, actor: Any, reason: str) -> None:
    entry = ledger_post(
        bucket=adjustment.bucket,
        amount=adjustment.amount,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        actor=actor,
        reason=adjustment.reason,
        reference=f"adjustment {adjustment.public_id}",
        idempotency_key=f"adjustment:{adjustment.public_id}",
    )
    BalanceAdjustment.objects.filter(pk=adjustment.pk).update(
        status=BalanceAdjustment.Status.APPLIED,
        entry=entry,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_reason=reason if actor.pk != adjustment.requested_by_id else "",
    )


@dataclass(frozen=True)
class Transfer:
    debit: LedgerEntry
    credit: LedgerEntry


def balance_transfer(
    *,
    source: Bucket,
    target: Bucket,
    amount: Decimal | int | str,
    actor: Any,
    reason: str,
    idempotency_key: str | None = None,
) -> Transfer:
    """Move value between two buckets of one customer's lines, of the same unit (and currency):
    a debit and a credit in one transaction, or neither."""
    value = _amount(amount)
    if value <= 0:
        raise ApplicationError("Transfer a positive amount.", fields={"amount": ["> 0"]})
    if source.pk == target.pk:
        raise ApplicationError("Choose another bucket to transfer to.", fields={"target": ["≠"]})
    if source.account.customer_id != target.account.customer_id:
        raise ApplicationError("Both lines must belong to one customer.", code="not_found")
    if (source.unit, source.currency) != (target.unit, target.currency):
        raise ApplicationError(
            f"Cannot move {source.unit_label} into {target.unit_label}.",
            code="unit_mismatch",
            fields={"target": ["Same unit and currency."]},
        )
    reason = _reason(reason)
    key = idempotency_key or None
    reference = f"transfer {source.public_id} → {target.public_id}"
    with transaction.atomic():
        # both rows in pk order: two opposite transfers at once cannot deadlock
        list(
            Bucket.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
        )
        debit = ledger_post(
            bucket=source,
            amount=-value,
            kind=LedgerEntry.Kind.TRANSFER,
            actor=actor,
            reason=reason,
            reference=reference,
            idempotency_key=f"{key}:out" if key else None,
        )
        credit = ledger_post(
            bucket=target,
            amount=value,
            kind=LedgerEntry.Kind.TRANSFER,
            actor=actor,
            reason=reason,
            reference=reference,
            idempotency_key=f"{key}:in" if key else None,
        )
    return Transfer(debit=debit, credit=credit)


# --- scheduled: expiry -------------------------------------------------------------------------


def buckets_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Expire the buckets whose validity has ended: what is left is written off with an expiry
    entry and the bucket becomes expired. A bucket with units held by an open session waits
    until the session ends or its reservation expires. Re-runnable; returns how many expired."""
    at = now or timezone.now()
    actor = system_actor()
    due = list(
        Bucket.objects.filter(
            status__in=[Bucket.Status.ACTIVE, Bucket.Status.SUSPENDED],
            valid_until__lte=at,
            reserved=0,
        )
        .order_by("valid_until", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for pk in due:
        with transaction.atomic():
            bucket = (
                Bucket.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, reserved=0, valid_until__lte=at)
                .exclude(status=Bucket.Status.EXPIRED)
                .first()
            )
            if bucket is None:
                continue
            _bucket_close(bucket, actor=actor, reason="Validity ended", at=at, until=None)
            expired += 1
    return expired


def buckets_end(
    *,
    subscriber: Any,
    actor: Any,
    reason: str,
    kind: str | None = None,
    source_prefix: str = "",
    at: datetime | None = None,
) -> int:
    """End a line's live buckets now (of one kind, or from sources starting with
    `source_prefix`): what is left is written off and each becomes expired; one not started yet
    ends before it starts. Returns how many ended."""
    now = at or timezone.now()
    reason = _reason(reason)
    live = Bucket.objects.filter(subscriber=subscriber).exclude(status=Bucket.Status.EXPIRED)
    live = live.exclude(valid_until__lte=now)
    if kind:
        live = live.filter(kind=kind)
    if source_prefix:
        live = live.filter(source_key__startswith=source_prefix)
    ended = 0
    with transaction.atomic():
        for bucket in live.select_for_update().order_by("pk"):
            _bucket_close(bucket, actor=actor, reason=reason, at=now, until=now)
            ended += 1
    return ended


def _bucket_close(
    bucket: Bucket, *, actor: Any, reason: str, at: datetime, until: datetime | None
) -> None:
    """Expire a locked bucket: what is left is written off (a debt stays owed; what an open
    charging session holds stays for the session to settle), and its validity ends at `until`
    when given."""
    left = max(bucket.balance - bucket.reserved, ZERO)
    changes: dict[str, Any] = {
        "status": Bucket.Status.EXPIRED,
        "balance": bucket.balance - left,
        "updated_at": at,
    }
    if until is not None:
        changes["valid_until"] = until
        changes["valid_from"] = min(bucket.valid_from, until)
    Bucket.objects.filter(pk=bucket.pk).update(**changes)
    if left:
        _entry_write(
            bucket,
            -left,
            balance_after=bucket.balance - left,
            kind=LedgerEntry.Kind.EXPIRY,
            actor=actor,
            reason=reason,
            reference=f"valid until {(until or bucket.valid_until or at):%Y-%m-%d %H:%M}",
            idempotency_key=f"expire:{bucket.public_id}",
            at=at,
        )


# --- the invariant -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerMismatch:
    bucket_pk: int
    public_id: str
    balance: Decimal
    entries_sum: Decimal


def ledger_mismatches() -> list[LedgerMismatch]:
    """Every bucket whose balance is not the sum of its entries (there should be none): one
    grouped query over the whole ledger."""
    totals = Bucket.objects.annotate(entries_sum=DecimalSum("entries__amount", default=ZERO))
    rows: Iterable[tuple[Any, ...]]
    if connection.vendor == "postgresql":
        rows = totals.exclude(balance=F("entries_sum")).values_list(
            "pk", "public_id", "balance", "entries_sum"
        )
    else:  # SQLite adds decimals as floats: compared here, at the column's places
        rows = [
            row
            for row in totals.values_list("pk", "public_id", "balance", "entries_sum")
            if row[2] != row[3]
        ]
    return [
        LedgerMismatch(pk, str(public_id), Decimal(balance), Decimal(total))
        for pk, public_id, balance, total in rows
    ]
