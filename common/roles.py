"""The roles people sign in with and the front end each one lands on.

Access to a front end is a permission held through a group, so an operator can build other roles
from the same pieces; superusers hold every permission and so may open every front end.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

if TYPE_CHECKING:
    from common.types import Actor


class Role(StrEnum):
    CSR = "CSR"
    SUPERVISOR = "CSR Supervisor"
    ADMIN = "Admin"
    RESELLER = "Reseller"
    SUBSCRIBER = "Subscriber"


# The operator's own people (never a partner's staff or a subscriber).
STAFF_ROLES: tuple[Role, ...] = (Role.CSR, Role.SUPERVISOR, Role.ADMIN)


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


# --- what each role holds -----------------------------------------------------------------------
#
# Each app lists its own capabilities in `<app>/permissions.py`: an enum of permission names,
# `ROLE_GRANTS` (which roles hold which of them) and `API_KEY_GRANTABLE` (which an admin may give
# to a machine client). They are gathered here through the app registry, so this module never
# imports an app and an app never imports another app's permissions to build a role.


def _permission_modules() -> list[ModuleType]:
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.permissions"
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def role_permissions() -> dict[Role, list[str]]:
    """Every role with the permission names it holds, gathered from every app."""
    merged: dict[Role, list[str]] = {role: [] for role in Role}
    for module in _permission_modules():
        for role, names in getattr(module, "ROLE_GRANTS", {}).items():
            merged[Role(role)].extend(str(name) for name in names)
    return {role: sorted(set(names)) for role, names in merged.items()}


def api_key_grantable() -> list[str]:
    """The permission names an admin may give an API key (machine clients open no front end)."""
    names: list[str] = []
    for module in _permission_modules():
        names.extend(str(name) for name in getattr(module, "API_KEY_GRANTABLE", ()))
    return names


def permissions_from_names(names: list[str]) -> list[Permission]:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query))
    if len(found) != len(set(names)):
        known = {f"{p.content_type.app_label}.{p.codename}" for p in found}
        raise LookupError(f"Unknown permissions: {sorted(set(names) - known)}")
    return found


def roles_sync() -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    # Other apps' permissions may not exist yet when this post_migrate handler runs first.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, names in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(permissions_from_names(names))
