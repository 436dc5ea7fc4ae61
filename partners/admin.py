"""Partners in the Django admin are read-only: they are created, changed, moved and suspended,
and their users added and removed, in the back office (partners.backoffice), where every change
goes through partners.services and is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from partners.models import Partner, PartnerUser


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PartnerUserInline(ReadOnly, admin.TabularInline):
    model = PartnerUser
    extra = 0
    fields = ["user", "is_active", "created_at", "updated_at"]
    readonly_fields = ["user", "is_active", "created_at", "updated_at"]


@admin.register(Partner)
class PartnerAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]
    inlines = [PartnerUserInline]
