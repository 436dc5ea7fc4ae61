"""The groups behind each role and the permissions they hold; kept in step after every migrate."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from common.roles import Role
from crm.permissions import CrmPerm
from orders.permissions import OrdersPerm

_CSR = [
    OrdersPerm.PLACE_ORDER,
    CrmPerm.ACCESS_CONSOLE,
    CrmPerm.VIEW_ANY_CUSTOMER,
    CrmPerm.MANAGE_CUSTOMER,
    CrmPerm.ADD_INTERACTION,
    CrmPerm.CHANGE_SUBSCRIBER_STATUS,
]

ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.CSR: list(_CSR),
    Role.SUPERVISOR: [*_CSR, CrmPerm.TERMINATE_SUBSCRIBER, CrmPerm.REVIEW_KYC],
    Role.ADMIN: [
        CrmPerm.ACCESS_BACKOFFICE,
        CrmPerm.VIEW_ANY_CUSTOMER,
        CrmPerm.MANAGE_CUSTOMER,
        CrmPerm.ADD_INTERACTION,
        CrmPerm.CHANGE_SUBSCRIBER_STATUS,
        CrmPerm.TERMINATE_SUBSCRIBER,
        CrmPerm.REVIEW_KYC,
        CrmPerm.MANAGE_API_KEYS,
        OrdersPerm.MANAGE_CATALOG,
        OrdersPerm.MANAGE_INVENTORY,
        OrdersPerm.PLACE_ORDER,
    ],
    Role.RESELLER: [CrmPerm.ACCESS_PARTNER_PORTAL],
    Role.SUBSCRIBER: [CrmPerm.ACCESS_SELFCARE],
}


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
    # Other apps' permissions may not exist yet when crm's post_migrate runs first.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(permissions_from_names([str(n) for n in names]))
