"""The roles people sign in with and the front end each one lands on.

Access to a front end is a permission held through a group, so an operator can build other roles
from the same pieces; superusers hold every permission and so may open every front end.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.types import Actor


class Role(StrEnum):
    CSR = "CSR"
    SUPERVISOR = "CSR Supervisor"
    ADMIN = "Admin"
    RESELLER = "Reseller"
    SUBSCRIBER = "Subscriber"


@dataclass(frozen=True, slots=True)
class Frontend:
    key: str
    title: str
    url_name: str
    permission: str


CONSOLE = Frontend("console", "CSR console", "crm:console-home", "crm.access_console")
BACKOFFICE = Frontend("backoffice", "Back office", "crm:backoffice-home", "crm.access_backoffice")
PARTNER = Frontend("partner", "Partner portal", "partners:home", "crm.access_partner_portal")
SELFCARE = Frontend("selfcare", "My account", "selfcare:home", "crm.access_selfcare")

# Order matters: a user who may open several lands on the first.
FRONTENDS: tuple[Frontend, ...] = (CONSOLE, BACKOFFICE, PARTNER, SELFCARE)


def frontends_for(user: Actor) -> list[Frontend]:
    if not user.is_authenticated or not user.is_active:
        return []
    return [frontend for frontend in FRONTENDS if user.has_perm(frontend.permission)]


def landing_frontend(user: Actor) -> Frontend | None:
    allowed = frontends_for(user)
    return allowed[0] if allowed else None
