from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    from crm.roles import roles_sync

    roles_sync()


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        # Permissions are created on post_migrate, so the groups are filled in after them.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="crm.roles_sync")
