"""Capabilities of the shared plumbing, named once, with the roles that hold them."""

from __future__ import annotations

from enum import StrEnum

from common.roles import Role


class CommonPerm(StrEnum):
    MANAGE_API_KEYS = "common.manage_api_keys"
    VIEW_AUDIT_LOG = "common.view_audit_log"


ROLE_GRANTS: dict[Role, list[CommonPerm]] = {
    Role.ADMIN: [CommonPerm.MANAGE_API_KEYS, CommonPerm.VIEW_AUDIT_LOG],
    Role.SUPERVISOR: [CommonPerm.VIEW_AUDIT_LOG],
}
