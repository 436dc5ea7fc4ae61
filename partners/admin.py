from __future__ import annotations

from django.contrib import admin

from partners.models import Partner, PartnerUser


class PartnerUserInline(admin.TabularInline):
    model = PartnerUser
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]
    inlines = [PartnerUserInline]
