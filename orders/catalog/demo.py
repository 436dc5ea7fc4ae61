"""A believable UK operator's catalog in GBP, built through the catalog services.

`catalog_demo_ensure(actor)` is idempotent: a plan, add-on or device whose code (SKU) exists is left
as it is, and only missing serial-numbered units are booked, so running it again creates
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from crm.models import User
from orders.catalog.models import AddOn, Allowance, Device, PricePlan, Service
from orders.catalog.services import (
    AllowanceData,
    TierData,
    addon_allowances_set,
    addon_create,
    device_create,
    plan_allowances_set,
    plan_create,
    plan_new_version,
    plan_publish,
    plan_tiers_set,
    plan_update,
)

UNITS_PER_DEVICE = 10
GB = Decimal("1024")  # data allowances are in MB


def _mb(gigabytes: int) -> Decimal:
    return GB * gigabytes


ALL, ON_NET, OFF_NET, ZONE = (
    Allowance.Scope.ALL,
    Allowance.Scope.ON_NET,
    Allowance.Scope.OFF_NET,
    Allowance.Scope.ZONE,
)
VOICE, SMS, DATA = Service.VOICE, Service.SMS, Service.DATA


@dataclass(frozen=True)
class DemoPlan:
    code: str
    name: str
    payment_type: str
    fee: str
    description: str
    allowances: tuple[AllowanceData, ...] = ()
    tiers: tuple[TierData, ...] = ()
    period: str = PricePlan.Period.MONTH
    activation: str = "0"
    proration: str = PricePlan.Proration.DAILY
    tariff: str = ""
    kinds: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    # An earlier price, published first and then replaced, to show versioning.
    earlier_fee: str | None = None


PREPAID = PricePlan.PaymentType.PREPAID
POSTPAID = PricePlan.PaymentType.POSTPAID
DAYS_30 = PricePlan.Period.DAYS_30

PLANS: tuple[DemoPlan, ...] = (
    DemoPlan(
        "payg-lite",
        "Pay as you go Lite",
        PREPAID,
        "0",
        "No monthly fee: top up and pay only for what you use. Texts get cheaper after 100.",
        tiers=(
            TierData(SMS, "0", "100", "0.1000"),
            TierData(SMS, "100", None, "0.0500"),
            TierData(VOICE, "0", None, "0.1500"),
            TierData(DATA, "0", None, "0.0100"),
        ),
        period=DAYS_30,
        proration=PricePlan.Proration.NONE,
        tariff="payg-standard",
    ),
    DemoPlan(
        "prepaid-bundle-10",
        "Prepaid Bundle 10",
        PREPAID,
        "10",
        "500 minutes, 500 texts and 5GB every 30 days.",
        allowances=(
            AllowanceData(VOICE, "500"),
            AllowanceData(SMS, "500"),
            AllowanceData(DATA, _mb(5)),
        ),
        period=DAYS_30,
        proration=PricePlan.Proration.NONE,
        tariff="payg-standard",
    ),
    DemoPlan(
        "prepaid-bundle-20",
        "Prepaid Bundle 20",
        PREPAID,
        "20",
        "10,000 on-net minutes, 1,500 minutes to other networks, 5,000 texts and 30GB "
        "every 30 days.",
        allowances=(
            AllowanceData(VOICE, "10000", ON_NET),
            AllowanceData(VOICE, "1500", OFF_NET),
            AllowanceData(SMS, "5000"),
            AllowanceData(DATA, _mb(30)),
        ),
        period=DAYS_30,
        proration=PricePlan.Proration.NONE,
        tariff="payg-standard",
    ),
    DemoPlan(
        "prepaid-data-50",
        "Prepaid Data 50GB",
        PREPAID,
        "15",
        "50GB for tablets and mobile broadband, with 100 minutes for the odd call.",
        allowances=(AllowanceData(DATA, _mb(50)), AllowanceData(VOICE, "100")),
        period=DAYS_30,
        proration=PricePlan.Proration.NONE,
        tariff="payg-standard",
        channels=("console", "partner", "selfcare"),
    ),
    DemoPlan(
        "sim-only-10gb",
        "SIM only 10GB",
        POSTPAID,
        "12",
        "1,000 on-net and 500 off-net minutes, 5,000 texts and 10GB a month.",
        allowances=(
            AllowanceData(VOICE, "1000", ON_NET),
            AllowanceData(VOICE, "500", OFF_NET),
            AllowanceData(SMS, "5000"),
            AllowanceData(DATA, _mb(10)),
        ),
        tariff="postpaid-standard",
    ),
    DemoPlan(
        "sim-only-30gb",
        "SIM only 30GB",
        POSTPAID,
        "18",
        "3,000 on-net and 1,500 off-net minutes, 5,000 texts and 30GB a month, with 5GB "
        "more in the EU.",
        allowances=(
            AllowanceData(VOICE, "3000", ON_NET),
            AllowanceData(VOICE, "1500", OFF_NET),
            AllowanceData(SMS, "5000"),
            AllowanceData(DATA, _mb(30)),
            AllowanceData(DATA, _mb(5), ZONE, "EU"),
        ),
        tariff="postpaid-standard",
        earlier_fee="16",
    ),
    DemoPlan(
        "unlimited-max",
        "Unlimited Max",
        POSTPAID,
        "35",
        "10,000 on-net and 5,000 off-net minutes, 10,000 texts, 1000GB at home, 15GB in "
        "the EU, and a 5G router included.",
        allowances=(
            AllowanceData(VOICE, "10000", ON_NET),
            AllowanceData(VOICE, "5000", OFF_NET),
            AllowanceData(SMS, "10000"),
            AllowanceData(DATA, _mb(1000)),
            AllowanceData(DATA, _mb(15), ZONE, "EU"),
        ),
        activation="10",
        tariff="postpaid-standard",
    ),
    DemoPlan(
        "business-pro-50gb",
        "Business Pro 50GB",
        POSTPAID,
        "25",
        "For sole traders and companies: 5,000 minutes, 5,000 texts and 50GB.",
        allowances=(
            AllowanceData(VOICE, "5000"),
            AllowanceData(SMS, "5000"),
            AllowanceData(DATA, _mb(50)),
        ),
        tariff="postpaid-business",
        kinds=("business",),
        channels=("console", "partner", "api"),
    ),
)


@dataclass(frozen=True)
class DemoAddOn:
    code: str
    name: str
    kind: str
    price: str
    days: int
    allowances: tuple[AllowanceData, ...]
    stackable: bool = False
    zone: str = ""
    plan_codes: tuple[str, ...] = ()
    conflicts_with: tuple[str, ...] = field(default_factory=tuple)


BOOSTER_PLANS = (
    "prepaid-bundle-10",
    "prepaid-bundle-20",
    "prepaid-data-50",
    "sim-only-10gb",
    "sim-only-30gb",
)

ADDONS: tuple[DemoAddOn, ...] = (
    DemoAddOn(
        "data-boost-1gb",
        "Data booster 1GB",
        AddOn.Kind.DATA_BOOSTER,
        "3",
        7,
        (AllowanceData(DATA, _mb(1)),),
        stackable=True,
        plan_codes=BOOSTER_PLANS,
    ),
    DemoAddOn(
        "data-boost-5gb",
        "Data booster 5GB",
        AddOn.Kind.DATA_BOOSTER,
        "8",
        30,
        (AllowanceData(DATA, _mb(5)),),
        stackable=True,
        plan_codes=BOOSTER_PLANS,
    ),
    DemoAddOn(
        "eu-roam-1gb-7d",
        "EU Roaming 1GB week pass",
        AddOn.Kind.ROAMING_PACK,
        "5",
        7,
        (
            AllowanceData(DATA, _mb(1), ZONE, "EU"),
            AllowanceData(VOICE, "100", ZONE, "EU"),
            AllowanceData(SMS, "100", ZONE, "EU"),
        ),
        zone="EU",
    ),
    DemoAddOn(
        "eu-roam-5gb-30d",
        "EU Roaming 5GB month pass",
        AddOn.Kind.ROAMING_PACK,
        "12",
        30,
        (
            AllowanceData(DATA, _mb(5), ZONE, "EU"),
            AllowanceData(VOICE, "300", ZONE, "EU"),
            AllowanceData(SMS, "300", ZONE, "EU"),
        ),
        zone="EU",
        conflicts_with=("eu-roam-1gb-7d",),
    ),
    DemoAddOn(
        "usa-roam-2gb-7d",
        "USA Roaming 2GB week pass",
        AddOn.Kind.ROAMING_PACK,
        "10",
        7,
        (AllowanceData(DATA, _mb(2), ZONE, "US"), AllowanceData(VOICE, "60", ZONE, "US")),
        zone="US",
    ),
    DemoAddOn(
        "sms-pack-500",
        "500 texts",
        AddOn.Kind.SMS_PACK,
        "2",
        30,
        (AllowanceData(SMS, "500"),),
        stackable=True,
        plan_codes=("payg-lite", "prepaid-bundle-10"),
    ),
)


@dataclass(frozen=True)
class DemoDevice:
    sku: str
    name: str
    kind: str
    price: str
    serial_prefix: str
    included_with: tuple[str, ...] = ()


DEVICES: tuple[DemoDevice, ...] = (
    DemoDevice("RTR-4G-100", "HomeHub 4G router", Device.Kind.ROUTER, "49", "HH4G"),
    DemoDevice(
        "RTR-5G-200",
        "HomeHub 5G router",
        Device.Kind.ROUTER,
        "149",
        "HH5G",
        included_with=("unlimited-max",),
    ),
    DemoDevice("HS-NOVA-A5", "Nova A5 5G handset (128GB)", Device.Kind.HANDSET, "199", "NVA5"),
)


def _plan_ensure(demo: DemoPlan, actor: User, tariffs: Mapping[str, Any]) -> None:
    if PricePlan.objects.filter(code=demo.code).exists():
        return
    plan = plan_create(
        actor=actor,
        code=demo.code,
        name=demo.name,
        description=demo.description,
        payment_type=demo.payment_type,
        currency="GBP",
        recurring_fee_amount=Decimal(demo.earlier_fee or demo.fee),
        recurring_period=demo.period,
        activation_fee_amount=Decimal(demo.activation),
        proration=demo.proration,
        tariff=tariffs.get(demo.tariff),
        eligible_customer_kinds=demo.kinds,
        eligible_channels=demo.channels,
    )
    plan_allowances_set(plan=plan, actor=actor, allowances=demo.allowances)
    plan_tiers_set(plan=plan, actor=actor, tiers=demo.tiers)
    plan = plan_publish(plan=plan, actor=actor)
    if demo.earlier_fee is not None:  # a price change: version 2 replaces version 1
        plan = plan_new_version(plan=plan, actor=actor)
        plan_update(plan=plan, actor=actor, recurring_fee_amount=Decimal(demo.fee))
        plan_publish(plan=plan, actor=actor)


def _addon_ensure(demo: DemoAddOn, actor: User) -> None:
    if AddOn.objects.filter(code=demo.code).exists():
        return
    addon = addon_create(
        actor=actor,
        code=demo.code,
        name=demo.name,
        kind=demo.kind,
        price_amount=Decimal(demo.price),
        currency="GBP",
        validity_days=demo.days,
        stackable=demo.stackable,
        zone=demo.zone,
        plan_codes=demo.plan_codes,
        conflicts_with=demo.conflicts_with,
    )
    addon_allowances_set(addon=addon, actor=actor, allowances=demo.allowances)


def _device_ensure(demo: DemoDevice, actor: User) -> None:
    device = Device.objects.filter(sku=demo.sku).first()
    if device is None:
        device = device_create(
            actor=actor,
            sku=demo.sku,
            name=demo.name,
            kind=demo.kind,
            price_amount=Decimal(demo.price),
            currency="GBP",
            included_with_plan_codes=demo.included_with,
        )


@transaction.atomic
def catalog_demo_ensure(actor: User, *, tariffs: Mapping[str, Any] | None = None) -> None:
    """Make sure the demo catalog exists: 4 prepaid and 4 postpaid plans, data boosters, EU
    (two sizes that conflict) and USA roaming packs, an SMS pack, and three devices (their
    serial-numbered units are stock: orders.inventory.demo). Every item is audited as made by
    `actor`, whoever loads the demo. `tariffs` maps a tariff code to the billing Tariff a plan
    refers to (the catalog sits below billing: whoever loads the demo passes them)."""
    for plan in PLANS:
        _plan_ensure(plan, actor, tariffs or {})
    for addon in ADDONS:
        _addon_ensure(addon, actor)
    for device in DEVICES:
        _device_ensure(device, actor)
