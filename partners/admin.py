"""Partners in the Django admin are read-only: they are created, changed, moved and suspended,
and their users added and removed, in the back office (partners.backoffice), where every change
goes through partners.services and is audited."""

from __future__ import annotations

from django.contrib import admin

from common.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from partners.models import Partner, PartnerUser


class PartnerUserInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PartnerUser
    extra = 0
    fields = ["user", "is_active", "created_at", "updated_at"]
    readonly_fields = ["user", "is_active", "created_at", "updated_at"]


@admin.register(Partner)
class PartnerAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "parent", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]
    inlines = [PartnerUserInline]
