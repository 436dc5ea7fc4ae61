"""Every capability of the partners app, named once, with the roles that hold it (gathered by
common.roles)."""

from __future__ import annotations

from enum import StrEnum

from common.roles import Role


class PartnersPerm(StrEnum):
    MANAGE_PARTNERS = "partners.manage_partners"


ROLE_GRANTS: dict[Role, list[PartnersPerm]] = {
    Role.ADMIN: [PartnersPerm.MANAGE_PARTNERS],
}
