"""Billing accounts: open one, change its bill cycle day or credit limit.

Both are audited (common.audit) in the same transaction: who, and the before/after of every
field that changed, so a raised credit limit always says by whom and why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from common.audit import audit_record, changes_between, changes_created, snapshot
from common.errors import FieldErrors
from common.money import Money
from common.parsing import amount_parse, int_parse
from crm.models import Account, Customer, User
from crm.services._shared import full_clean, readable_number

ACCOUNT_EDITABLE = ("bill_cycle_day", "credit_limit_amount")
ACCOUNT_AUDITED = ("number", "payment_type", "currency", *ACCOUNT_EDITABLE, "status")


def _credit_limit(
    raw: Money | Decimal | str, *, currency: str, payment_type: str, errors: FieldErrors
) -> Decimal:
    """A credit limit as an amount of the account's currency: Money in another currency is
    refused, as is a negative limit or any limit on a prepaid account."""
    if isinstance(raw, Money):
        if raw.currency != currency:
            errors.add(
                "credit_limit_amount",
                f"The credit limit is in {raw.currency}; the account is billed in {currency}.",
            )
            return Decimal("0")
        raw = raw.amount
    limit = amount_parse(
        raw,
        "credit_limit_amount",
        errors,
        what="A credit limit",
        missing="Give the credit limit (0 for none).",
    ) or Decimal("0")
    if limit < 0:
        errors.add("credit_limit_amount", "A credit limit cannot be negative.")
    if payment_type == Account.PaymentType.PREPAID and limit != 0:
        errors.add("credit_limit_amount", "A prepaid account has no credit limit.")
    return limit


def _cycle_day(raw: Any, errors: FieldErrors) -> int | None:
    return int_parse(
        raw, "bill_cycle_day", errors, minimum=1, maximum=28, what="The bill cycle day"
    )


@transaction.atomic
def account_create(
    *,
    customer: Customer,
    actor: User,
    payment_type: str,
    currency: str | None = None,
    bill_cycle_day: int = 1,
    credit_limit_amount: Money | Decimal | str = Decimal("0"),
) -> Account:
    """Open a billing account; prepaid accounts carry no credit limit. A credit limit given as
    Money must be in the account's currency."""
    errors = FieldErrors()
    currency = (currency or settings.DEFAULT_CURRENCY).upper()
    if currency not in settings.CURRENCIES:
        errors.add("currency", f"{currency} is not a currency the operator bills in.")
    credit_limit = _credit_limit(
        credit_limit_amount, currency=currency, payment_type=payment_type, errors=errors
    )
    if payment_type not in Account.PaymentType.values:
        errors.add("payment_type", "Choose prepaid or postpaid.")
    cycle_day = _cycle_day(bill_cycle_day, errors)
    errors.raise_if_any()
    assert cycle_day is not None
    account = Account(
        customer=customer,
        currency=currency,
        payment_type=payment_type,
        bill_cycle_day=cycle_day,
        credit_limit_amount=credit_limit,
        number=readable_number("ACC"),
    )
    full_clean(account)
    account.save()
    audit_record(
        actor=actor,
        instance=account,
        action="created",
        changes=changes_created(snapshot(account, ACCOUNT_AUDITED)),
    )
    return account


@transaction.atomic
def account_update(
    *,
    account: Account,
    actor: User,
    bill_cycle_day: int | None = None,
    credit_limit_amount: Money | Decimal | str | None = None,
    reason: str = "",
) -> Account:
    """Change the bill cycle day or the credit limit; the audit log keeps who changed what
    (before and after) and the reason given."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    before = snapshot(account, ACCOUNT_EDITABLE)
    errors = FieldErrors()
    changed: list[str] = []
    if bill_cycle_day is not None:
        account.bill_cycle_day = _cycle_day(bill_cycle_day, errors) or account.bill_cycle_day
        changed.append("bill_cycle_day")
    if credit_limit_amount is not None:
        account.credit_limit_amount = _credit_limit(
            credit_limit_amount,
            currency=account.currency,
            payment_type=account.payment_type,
            errors=errors,
        )
        changed.append("credit_limit_amount")
    errors.raise_if_any()
    account.save(update_fields=[*changed, "updated_at"])
    if diff := changes_between(before, snapshot(account, ACCOUNT_EDITABLE)):
        audit_record(actor=actor, instance=account, action="updated", changes=diff, reason=reason)
    return account
