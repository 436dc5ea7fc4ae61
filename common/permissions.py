"""Capabilities of the shared plumbing, named once, with the roles that hold them."""

from __future__ import annotations

from enum import StrEnum

from common.roles import Role


class CommonPerm(StrEnum):
    MANAGE_API_KEYS = "common.manage_api_keys"
    VIEW_AUDIT_LOG = "common.view_audit_log"
    # A lost or replaced phone: supervisors for their CSRs, admins for every other staff member.
    RESET_CSR_TWO_FACTOR = "common.reset_csr_two_factor"
    RESET_STAFF_TWO_FACTOR = "common.reset_staff_two_factor"


ROLE_GRANTS: dict[Role, list[CommonPerm]] = {
    Role.ADMIN: [
        CommonPerm.MANAGE_API_KEYS,
        CommonPerm.VIEW_AUDIT_LOG,
        CommonPerm.RESET_CSR_TWO_FACTOR,
        CommonPerm.RESET_STAFF_TWO_FACTOR,
    ],
    Role.SUPERVISOR: [CommonPerm.VIEW_AUDIT_LOG, CommonPerm.RESET_CSR_TWO_FACTOR],
}
