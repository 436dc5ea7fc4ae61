"""The one door for each change to a line's service: activate, suspend, resume, terminate.

Every door (the console's line buttons, the API's subscriber actions, scheduled jobs, later
the partner portal and self-care) calls these, and each places an order and completes it at
once, so the change has the same checks, the same effects and the same audit trail (the order
and its events, the line's status events, stock events, charges) whichever door it came
through. The console's terminate page places the same order as a draft first, to show the
customer the credit before submitting it.
"""

from __future__ import annotations

from common.errors import ApplicationError
from crm.models import Subscriber, User
from orders.models import Order
from orders.placing import order_service_change_create
from orders.services import order_place


def line_service_change(
    *, subscriber: Subscriber, type: str, actor: User, reason: str, channel: str
) -> Order:
    """Place the change as an order and complete it now; a refused completion raises with the
    reason (the failed order stays, with that reason, in the customer's orders)."""
    order = order_service_change_create(
        actor=actor, channel=channel, subscriber=subscriber, type=type, reason=reason
    )
    order = order_place(order=order, actor=actor)
    if order.status != Order.Status.COMPLETED:
        raise ApplicationError(
            f"Order {order.number} failed: {order.failure_reason}", code="order_failed"
        )
    return order


def line_activate(*, subscriber: Subscriber, actor: User, reason: str, channel: str) -> Order:
    """Bring a pending line into service; its plan's allowances start."""
    return line_service_change(
        subscriber=subscriber, type=Order.Type.ACTIVATE, actor=actor, reason=reason, channel=channel
    )


def line_suspend(*, subscriber: Subscriber, actor: User, reason: str, channel: str) -> Order:
    """Bar the line (lost phone, fraud, non-payment); audited with who and why."""
    return line_service_change(
        subscriber=subscriber, type=Order.Type.SUSPEND, actor=actor, reason=reason, channel=channel
    )


def line_resume(*, subscriber: Subscriber, actor: User, reason: str, channel: str) -> Order:
    return line_service_change(
        subscriber=subscriber, type=Order.Type.RESUME, actor=actor, reason=reason, channel=channel
    )


def line_terminate(*, subscriber: Subscriber, actor: User, reason: str, channel: str) -> Order:
    """End the line for good: number to quarantine, SIM blocked, allowances and add-ons
    ended, the plan's unused days credited, open orders for the line cancelled."""
    return line_service_change(
        subscriber=subscriber,
        type=Order.Type.TERMINATE,
        actor=actor,
        reason=reason,
        channel=channel,
    )


LINE_ACTIONS = {
    "activate": line_activate,
    "suspend": line_suspend,
    "resume": line_resume,
    "terminate": line_terminate,
}
