"""Every write to charges waiting for the bill and to the allowances a line holds.

Other apps post charges and grant or end allowances only through these functions. A charge is
posted in its account's currency (a price in another currency is refused, never relabelled) and
rounded once, here, to the currency's minor unit by the named rule settings.MONEY_ROUNDING;
its `source_key` makes posting the same thing twice a no-op.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from billing.balances.models import Bucket
from billing.balances.services import bucket_open, buckets_end
from billing.models import Charge
from common.errors import ApplicationError, CurrencyMismatch
from common.money import Money
from crm.models import Account, Subscriber, User


@transaction.atomic
def charge_post(
    *,
    account: Account,
    amount: Money,
    kind: str,
    description: str,
    source_key: str,
    actor: User,
    subscriber: Subscriber | None = None,
    details: dict[str, Any] | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Charge:
    """Post an amount for the account's next bill; a credit is negative.

    Posting again with the same `source_key` returns the charge already posted: whatever
    posts a charge names it after its origin (an order line), so a retry never charges twice.
    """
    if amount.currency != account.currency:
        raise CurrencyMismatch(
            f"{description} is priced in {amount.currency}; account {account.number} is billed "
            f"in {account.currency}."
        )
    if kind not in Charge.Kind.values:
        raise ValueError(f"{kind!r} is not a kind of charge")
    existing = Charge.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Charge.objects.create(
                account=account,
                subscriber=subscriber,
                kind=kind,
                description=description[:200],
                amount=amount.rounded().amount,
                currency=amount.currency,
                details=details or {},
                period_start=period_start,
                period_end=period_end,
                source_key=source_key,
                posted_by=actor,
            )
    except IntegrityError:  # the same source posted by a concurrent retry
        return Charge.objects.get(source_key=source_key)


# the unit a plan allowance's quantity is counted in, and how many of the bucket's units make one
ALLOWANCE_UNITS: dict[str, tuple[str, Decimal]] = {
    "voice": (Bucket.Unit.SECONDS, Decimal(60)),  # minutes
    "sms": (Bucket.Unit.MESSAGES, Decimal(1)),
    "data": (Bucket.Unit.BYTES, Decimal(1_000_000)),  # MB
}


def allowance_grant(
    *,
    subscriber: Subscriber,
    service: str,
    quantity: Decimal,
    source_key: str,
    description: str,
    actor: User,
    valid_until: datetime | None,
    scope: str = "all",
    zone: str = "",
    valid_from: datetime | None = None,
) -> Bucket:
    """Give a line units it may use before rating charges it (from its plan or an add-on): an
    allowance bucket of minutes, messages or MB, held as seconds, messages or bytes. Granting
    the same `source_key` again returns the bucket already opened."""
    if service not in ALLOWANCE_UNITS:
        raise ApplicationError(f"No allowance for {service!r}.", fields={"service": ["Unknown."]})
    unit, factor = ALLOWANCE_UNITS[service]
    return bucket_open(
        account=subscriber.account,
        subscriber=subscriber,
        kind=Bucket.Kind.ALLOWANCE,
        unit=unit,
        service=service,
        scope=scope,
        zone=zone,
        amount=quantity * factor,
        name=description,
        source_key=source_key,
        actor=actor,
        reason=description,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def allowances_end(
    *, subscriber: Subscriber, actor: User, source_prefix: str = "", at: datetime | None = None
) -> int:
    """End the line's live allowances now (all, or those whose source starts with
    `source_prefix`, e.g. "plan:" when the plan changes); what was left of them is written off.
    Returns how many ended."""
    return buckets_end(
        subscriber=subscriber,
        kind=Bucket.Kind.ALLOWANCE,
        source_prefix=source_prefix,
        actor=actor,
        reason="Allowance ended with its plan or add-on",
        at=at,
    )
