from __future__ import annotations

from django.contrib import admin

from common.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from orders.catalog.models import AddOn, Allowance, ChargingTier, Device, PricePlan
from orders.inventory.models import DeviceItem, InventoryEvent, Msisdn, SimBatch, SimCard
from orders.models import OrderEvent


class AllowanceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Allowance
    extra = 0
    fk_name = "plan"


class AddOnAllowanceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Allowance
    extra = 0
    fk_name = "addon"


class ChargingTierInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ChargingTier
    extra = 0


@admin.register(PricePlan)
class PricePlanAdmin(ReadOnlyAdmin):
    list_display = ["code", "version", "name", "payment_type", "recurring_fee_amount", "status"]
    list_filter = ["payment_type", "status"]
    search_fields = ["code", "name"]
    inlines = [AllowanceInline, ChargingTierInline]


@admin.register(AddOn)
class AddOnAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "price_amount", "validity_days", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["code", "name"]
    inlines = [AddOnAllowanceInline]


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ["sku", "name", "kind", "price_amount", "status"]
    search_fields = ["sku", "name"]


@admin.register(DeviceItem)
class DeviceItemAdmin(ReadOnlyAdmin):
    list_display = ["serial", "device", "status"]
    list_filter = ["status"]
    search_fields = ["serial"]


class InventoryReadOnly(ReadOnlyAdmin):
    """Status changes go through the inventory services so they are audited."""

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [*super().get_readonly_fields(request, obj), "status"]


@admin.register(Msisdn)
class MsisdnAdmin(InventoryReadOnly):
    list_display = ["number", "category", "price_amount", "status", "reserved_until"]
    list_filter = ["status", "category"]
    search_fields = ["number"]


@admin.register(SimCard)
class SimCardAdmin(InventoryReadOnly):
    list_display = ["iccid", "imsi", "status", "partner", "batch"]
    list_filter = ["status"]
    search_fields = ["iccid", "imsi"]


@admin.register(SimBatch)
class SimBatchAdmin(ReadOnlyAdmin):
    list_display = ["name", "card_count", "imported_by", "created_at"]


@admin.register(InventoryEvent)
class InventoryEventAdmin(ReadOnlyAdmin):
    list_display = [
        "msisdn",
        "sim",
        "device_item",
        "old_status",
        "new_status",
        "actor",
        "created_at",
    ]
    list_select_related = ["msisdn", "sim", "device_item", "actor"]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "old_status", "new_status", "actor", "reason", "created_at"]
    list_filter = ["new_status"]
    search_fields = ["order__number", "actor__email", "reason"]
    list_select_related = ["order", "actor"]
