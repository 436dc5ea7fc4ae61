from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    from common.roles import roles_sync

    roles_sync()


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from common import schema  # noqa: F401  (registers the API key scheme)

        # Permissions are created on post_migrate, so the groups are filled in after them.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="common.roles_sync")
