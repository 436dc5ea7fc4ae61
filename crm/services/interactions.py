"""The customer's timeline: notes, calls and emails."""

from __future__ import annotations

from django.db import transaction

from common.errors import FieldErrors
from crm.models import Customer, Interaction, User


@transaction.atomic
def interaction_add(
    *,
    customer: Customer,
    actor: User,
    body: str,
    kind: str = Interaction.Kind.NOTE,
    direction: str = Interaction.Direction.INTERNAL,
    subject: str = "",
) -> Interaction:
    errors = FieldErrors()
    body = (body or "").strip()
    if not body:
        errors.add("body", "Write something in the note.")
    elif len(body) > 10_000:
        errors.add("body", "A note has at most 10,000 characters.")
    if kind not in Interaction.Kind.values:
        errors.add("kind", f"{kind!r} is not a kind of interaction.")
    if direction not in Interaction.Direction.values:
        errors.add("direction", f"{direction!r} is not a direction.")
    if len(subject) > 200:
        errors.add("subject", "A subject has at most 200 characters.")
    errors.raise_if_any()
    return Interaction.objects.create(
        customer=customer,
        kind=kind,
        direction=direction,
        subject=subject.strip(),
        body=body,
        author=actor,
    )
