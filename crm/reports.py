"""Figures for the back office: a handful of aggregate queries, never a loop over rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Model, QuerySet, TextChoices

from crm.models import Account, Customer, Subscriber
from partners.models import Partner


@dataclass(frozen=True, slots=True)
class Tally:
    value: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    title: str
    rows: list[Tally]

    @property
    def total(self) -> int:
        return sum(row.count for row in self.rows)


@dataclass(frozen=True, slots=True)
class BackofficeOverview:
    customers_by_kind: Breakdown
    customers_by_kyc_status: Breakdown
    accounts_by_payment_type: Breakdown
    subscribers_by_status: Breakdown
    partner_count: int


def _breakdown(
    title: str, qs: QuerySet[Model], field: str, choices: type[TextChoices]
) -> Breakdown:
    """One GROUP BY; every choice is listed, with 0 where nothing has it yet."""
    counts = {row[field]: row["n"] for row in qs.order_by().values(field).annotate(n=Count("pk"))}
    rows = [Tally(value, label, counts.pop(value, 0)) for value, label in choices.choices]
    # A value no longer among the choices (old data) still counts, under its raw name.
    rows += [Tally(value, value, n) for value, n in sorted(counts.items())]
    return Breakdown(title, rows)


def backoffice_overview() -> BackofficeOverview:
    return BackofficeOverview(
        customers_by_kind=_breakdown(
            "Customers by kind", Customer.objects.all(), "kind", Customer.Kind
        ),
        customers_by_kyc_status=_breakdown(
            "Customers by KYC status", Customer.objects.all(), "kyc_status", Customer.KycStatus
        ),
        accounts_by_payment_type=_breakdown(
            "Accounts by payment type",
            Account.objects.all(),
            "payment_type",
            Account.PaymentType,
        ),
        subscribers_by_status=_breakdown(
            "Lines by status", Subscriber.objects.all(), "status", Subscriber.Status
        ),
        partner_count=Partner.objects.count(),
    )
