"""Role-scoped reads of customers, accounts and subscribers, and the console search."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import connection
from django.db.models import Func, Prefetch, Q, QuerySet
from django.db.models.functions import Collate, Upper
from django.shortcuts import get_object_or_404

from crm.models import (
    Account,
    Customer,
    Interaction,
    KycDocument,
    Subscriber,
    SubscriberEvent,
)
from crm.permissions import CrmPerm
from crm.validators import msisdn_to_e164
from partners.selectors import partner_of

if TYPE_CHECKING:
    from common.types import Actor


def _scope_filter(actor: Actor, prefix: str) -> Q | None:
    """None means everything; otherwise the filter that keeps only what `actor` may see."""
    if actor.has_perm(CrmPerm.VIEW_ANY_CUSTOMER):
        return None
    if not actor.is_authenticated:
        return Q(pk__in=[])
    if (partner := partner_of(actor)) is not None:
        return Q(**{f"{prefix}partner__path__startswith": partner.path})
    return Q(**{f"{prefix}owner": actor})


def _scoped(qs: QuerySet[Any], actor: Actor, prefix: str) -> QuerySet[Any]:
    condition = _scope_filter(actor, prefix)
    return qs if condition is None else qs.filter(condition)


def customer_qs_for(actor: Actor) -> QuerySet[Customer]:
    return _scoped(Customer.objects.all(), actor, "")


def customer_get_for(actor: Actor, public_id: UUID | str) -> Customer:
    return get_object_or_404(customer_qs_for(actor), public_id=public_id)


def account_qs_for(actor: Actor) -> QuerySet[Account]:
    return _scoped(Account.objects.select_related("customer"), actor, "customer__")


def account_get_for(actor: Actor, public_id: UUID | str) -> Account:
    return get_object_or_404(account_qs_for(actor), public_id=public_id)


def subscriber_qs_for(actor: Actor) -> QuerySet[Subscriber]:
    return _scoped(
        Subscriber.objects.select_related("account__customer", "plan"),
        actor,
        "account__customer__",
    )


def subscriber_get_for(actor: Actor, public_id: UUID | str) -> Subscriber:
    return get_object_or_404(subscriber_qs_for(actor), public_id=public_id)


def kyc_document_get_for(actor: Actor, public_id: UUID | str) -> KycDocument:
    documents = KycDocument.objects.select_related("customer").filter(
        customer__in=customer_qs_for(actor)
    )
    return get_object_or_404(documents, public_id=public_id)


def customer_detail_for(actor: Actor, public_id: UUID | str) -> Customer:
    """The customer with everything the customer page shows, in a fixed number of queries."""
    qs = (
        customer_qs_for(actor)
        .select_related("owner", "partner")
        .prefetch_related(
            "addresses",
            "kyc_documents",
            Prefetch(
                "accounts",
                queryset=Account.objects.order_by("created_at", "pk").prefetch_related(
                    Prefetch(
                        "subscribers",
                        queryset=Subscriber.objects.select_related("plan").order_by(
                            "created_at", "pk"
                        ),
                    )
                ),
            ),
        )
    )
    return get_object_or_404(qs, public_id=public_id)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: Any
    kind: str
    title: str
    body: str
    author: Any


def customer_timeline(customer: Customer, *, limit: int = 100) -> list[TimelineEntry]:
    """Notes and interactions merged with subscriber status changes, newest first."""
    interactions = Interaction.objects.filter(customer=customer).select_related("author")[:limit]
    events = (
        SubscriberEvent.objects.filter(subscriber__account__customer=customer)
        .select_related("actor", "subscriber")
        .order_by("-created_at", "-pk")[:limit]
    )
    entries = chain(
        (
            TimelineEntry(
                i.created_at,
                i.kind,
                i.subject or i.get_kind_display(),
                i.body,
                i.author,
            )
            for i in interactions
        ),
        (
            TimelineEntry(
                e.created_at,
                "status",
                f"{e.subscriber.msisdn_display}: {e.old_status or 'new'} → {e.new_status}",
                e.reason,
                e.actor,
            )
            for e in events
        ),
    )
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


# ---------------------------------------------------------------------------------------------
# Console search: one box that takes a name, MSISDN, account/customer number, ICCID or email.

_NUMBER = re.compile(r"^(ACC|CUS)-?(\d{1,10})$", re.IGNORECASE)
_DIGITS_ONLY = re.compile(r"^[\d\s\-().+]+$")


@dataclass(slots=True)
class SearchHit:
    customer: Customer
    matched: str
    subscribers: list[Subscriber] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    kind: str  # "number" | "msisdn" | "iccid" | "imsi" | "email" | "name" | "empty"
    value: str
    extra: tuple[str, ...] = ()


def search_query_parse(text: str) -> SearchQuery:
    """Decide what the person typed: each kind is answered by one indexed lookup."""
    text = " ".join(text.split())
    if not text:
        return SearchQuery("empty", "")
    if "@" in text:
        return SearchQuery("email", text.lower())
    if match := _NUMBER.match(text.replace(" ", "")):
        prefix, digits = match.group(1).upper(), match.group(2)
        return SearchQuery("number", f"{prefix}-{int(digits):08d}", (prefix,))
    if _DIGITS_ONLY.match(text):
        digits = re.sub(r"\D", "", text)
        if digits.startswith("89") and len(digits) in (19, 20):
            return SearchQuery("iccid", digits)
        if len(digits) == 15 and not text.lstrip().startswith("+") and digits[:3] != "447":
            return SearchQuery("imsi", digits)
        if (e164 := msisdn_to_e164(text)) is not None:
            return SearchQuery("msisdn", e164)
        return SearchQuery("none", digits)
    return SearchQuery("name", text.lower())


def _name_key(column: str) -> Func:
    """UPPER(column) in byte order ("C" collation on PostgreSQL), as the prefix indexes hold it."""
    upper = Upper(column)
    return Collate(upper, "C") if connection.vendor == "postgresql" else upper


def _prefix(field: str, text: str) -> Q:
    """`field` starts with `text`, as a range so that a plain index answers it in byte order."""
    text = text.upper()
    return Q(**{f"{field}__gte": text, f"{field}__lt": text[:-1] + chr(ord(text[-1]) + 1)})


def _name_keyed(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    return customers.alias(
        last_key=_name_key("last_name"),
        first_key=_name_key("first_name"),
        company_key=_name_key("company_name"),
    )


def _name_conditions(text: str) -> list[tuple[Q, tuple[str, ...]]]:
    """Prefix conditions in the order their hits are shown, each with the index order to scan:
    `smi` finds Smith (last names first), Smiths Ltd, then first names; `jo smi` finds John
    Smith, then Smith Joanna, then companies (indexes: migration crm 0003)."""
    company = (_prefix("company_key", text), ("company_key", "pk"))
    terms = text.split(" ")
    if len(terms) == 1:
        return [
            (_prefix("last_key", text), ("last_key", "first_key", "pk")),
            company,
            (_prefix("first_key", text), ("first_key", "last_key", "pk")),
        ]
    first, rest = terms[0], " ".join(terms[1:])
    return [
        (_prefix("first_key", first) & _prefix("last_key", rest), ("first_key", "last_key", "pk")),
        (_prefix("last_key", first) & _prefix("first_key", rest), ("last_key", "first_key", "pk")),
        company,
    ]


def customer_qs_name_prefix(customers: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """`customers` whose name matches `text` as the console search matches names."""
    text = " ".join(text.split())
    if not text:
        return customers
    condition = Q(pk__in=[])
    for name_condition, _ordering in _name_conditions(text):
        condition |= name_condition
    return _name_keyed(customers).filter(condition)


def _name_search(customers: QuerySet[Customer], text: str, limit: int) -> list[Customer]:
    """One ordered index range scan per condition, each stopping at the limit."""
    keyed = _name_keyed(customers)
    found: dict[int, Customer] = {}
    for condition, ordering in _name_conditions(text):
        for customer in keyed.filter(condition).order_by(*ordering)[:limit]:
            found.setdefault(customer.pk, customer)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def customer_search(
    actor: Actor, text: str, *, limit: int = 20
) -> tuple[SearchQuery, list[SearchHit]]:
    query = search_query_parse(text)
    customers = customer_qs_for(actor).select_related("partner")
    subscriber_filter: Q | None = None
    if query.kind == "name" and len(query.value) >= 2:
        found = _name_search(customers, query.value, limit)
    elif query.kind == "email":
        found = list(customers.filter(email=query.value)[:limit])
    elif query.kind == "number" and query.extra == ("ACC",):
        found = list(customers.filter(accounts__number=query.value)[:limit])
    elif query.kind == "number":
        found = list(customers.filter(number=query.value)[:limit])
    elif query.kind in ("msisdn", "iccid", "imsi"):
        subscriber_filter = Q(**{query.kind: query.value})
        ids = Subscriber.objects.filter(subscriber_filter).values("account__customer_id")
        found = list(customers.filter(pk__in=ids)[:limit])
    else:
        return query, []
    if not found:
        return query, []
    subscribers_by_customer: dict[int, list[Subscriber]] = {}
    for subscriber in (
        Subscriber.objects.filter(account__customer__in=found)
        .select_related("account")
        .order_by("created_at", "pk")
    ):
        subscribers_by_customer.setdefault(subscriber.account.customer_id, []).append(subscriber)
    hits = []
    for customer in found:
        subs = subscribers_by_customer.get(customer.pk, [])
        if subscriber_filter is not None:
            matched = [s for s in subs if getattr(s, query.kind) == query.value]
            label = f"{query.kind.upper()} {matched[0].msisdn_display if matched else query.value}"
        else:
            label = {"email": "email", "number": "number", "name": "name"}[query.kind]
        hits.append(SearchHit(customer=customer, matched=label, subscribers=subs))
    return query, hits


# ---------------------------------------------------------------------------------------------
# Status history and API keys.


def subscriber_status_history(subscriber: Subscriber) -> QuerySet[SubscriberEvent]:
    """A line's status changes, newest first; fetch `subscriber` through subscriber_get_for."""
    return SubscriberEvent.objects.filter(subscriber=subscriber).order_by("-created_at", "-pk")
