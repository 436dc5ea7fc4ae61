from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from common.models import ApiKey, AuditEvent


class ReadOnlyAdminMixin:
    """History rows (audit and status events) are written by the services that make the
    change, in its transaction. Nobody adds, changes or deletes one by hand, superusers
    included; their views answer 403 and a parent whose deletion would cascade to them cannot
    be deleted here either."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "user", "created_by", "revoked_by", "last_used_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "content_type", "object_repr", "action", "actor", "reason"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "object_pk", "actor__email", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["content_type", "actor"]
