from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from common.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from crm.models import (
    Account,
    Address,
    Customer,
    Interaction,
    KycDocument,
    Subscriber,
    SubscriberEvent,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_machine", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class AddressInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Address
    extra = 0


class AccountInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Account
    extra = 0
    fields = ["number", "payment_type", "currency", "bill_cycle_day", "status"]
    readonly_fields = ["number", "payment_type", "currency", "bill_cycle_day", "status"]
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["number", "__str__", "kind", "email", "kyc_status", "partner", "created_at"]
    list_filter = ["kind", "kyc_status"]
    search_fields = ["number", "last_name", "company_name", "email"]
    readonly_fields = ["public_id", "number"]
    raw_id_fields = ["owner", "partner"]
    inlines = [AddressInline, AccountInline]


class SubscriberInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Subscriber
    extra = 0
    fields = ["msisdn", "iccid", "imsi", "status"]
    readonly_fields = ["msisdn", "iccid", "imsi", "status"]
    show_change_link = True


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["number", "customer", "payment_type", "currency", "status"]
    list_filter = ["payment_type", "status", "currency"]
    search_fields = ["number"]
    raw_id_fields = ["customer"]
    readonly_fields = ["public_id", "number"]
    inlines = [SubscriberInline]


class SubscriberEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SubscriberEvent
    extra = 0
    can_delete = False
    readonly_fields = ["old_status", "new_status", "actor", "reason", "created_at"]


@admin.register(SubscriberEvent)
class SubscriberEventAdmin(ReadOnlyAdmin):
    list_display = ["subscriber", "old_status", "new_status", "actor", "reason", "created_at"]
    list_filter = ["new_status"]
    search_fields = ["subscriber__msisdn", "actor__email", "reason"]
    list_select_related = ["subscriber", "actor"]


@admin.register(Subscriber)
class SubscriberAdmin(ReadOnlyAdmin):
    """Read-mostly: status changes go through the console or API so they are audited."""

    list_display = ["msisdn", "iccid", "account", "status"]
    list_filter = ["status"]
    search_fields = ["msisdn", "iccid", "imsi"]
    raw_id_fields = ["account"]
    readonly_fields = ["public_id", "status", "status_changed_at"]
    inlines = [SubscriberEventInline]


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ["customer", "kind", "subject", "author", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["customer", "author"]


@admin.register(KycDocument)
class KycDocumentAdmin(ReadOnlyAdmin):
    list_display = ["customer", "kind", "document_number", "status", "reviewed_by"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["customer", "reviewed_by"]
