from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from common.models import ApiKey, AuditEvent


class ReadOnlyAdminMixin:
    """The admin is a window on the records for superusers, not a second door: every business
    record changes through its service (which checks, audits and records who and why), and
    history rows (audit and status events) are written by those services in the change's own
    transaction. Nobody adds, changes or deletes one here, superusers included; those views
    answer 403. Users and groups are the exception (crm.admin)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "user", "created_by", "revoked_by", "last_used_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "content_type", "object_repr", "action", "actor", "reason"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "object_pk", "actor__email", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["content_type", "actor"]
