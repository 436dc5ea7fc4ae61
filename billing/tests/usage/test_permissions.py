"""Who holds the usage capabilities."""

from __future__ import annotations

import pytest

from billing.permissions import BillingPerm
from common.roles import api_key_grantable

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "push", "view", "manage"),
    [
        ("csr", False, True, False),
        ("supervisor", False, True, True),
        ("admin", True, True, True),
        ("subscriber", False, False, False),
        ("reseller_a", False, False, False),
    ],
)
def test_usage_permissions_by_role(request, persona, push, view, manage):
    # given
    user = request.getfixturevalue(persona)
    # then
    assert user.has_perm(BillingPerm.PUSH_USAGE) is push
    assert user.has_perm(BillingPerm.VIEW_USAGE) is view
    assert user.has_perm(BillingPerm.MANAGE_USAGE) is manage


def test_api_keys_may_push_and_read_usage():
    grantable = api_key_grantable()
    assert BillingPerm.PUSH_USAGE in grantable
    assert BillingPerm.VIEW_USAGE in grantable
