"""The Django admin shows partners but changes none: changes go through the back office,
where they are audited."""

from __future__ import annotations

from crm.models import User
from crm.tests.factories import PartnerFactory


def test_partners_are_read_only_in_the_django_admin(client, db):
    # given
    superuser = User.objects.create_superuser(email="root@example.com", password="x")
    partner = PartnerFactory()
    client.force_login(superuser)
    # when
    add = client.get("/admin/partners/partner/add/")
    change = client.post(
        f"/admin/partners/partner/{partner.pk}/change/", {"code": "x", "name": "Changed"}
    )
    # then
    assert add.status_code == 403
    assert change.status_code == 403
    partner.refresh_from_db()
    assert partner.name != "Changed"
