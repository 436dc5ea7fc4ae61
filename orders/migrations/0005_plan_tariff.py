"""A price plan refers to its tariff (billing.Tariff) instead of naming a tariff code."""

import re

import django.db.models.deletion
from django.db import migrations, models


def _code(raw):
    return re.sub(r"[^a-z0-9]+", "-", raw.strip().lower()).strip("-")[:40]


def _fill_tariff(apps, schema_editor):
    PricePlan = apps.get_model("orders", "PricePlan")
    Tariff = apps.get_model("billing", "Tariff")
    tariffs = {tariff.code: tariff.pk for tariff in Tariff.objects.all()}
    for plan in PricePlan.objects.exclude(tariff_code="").order_by("pk"):
        if (pk := tariffs.get(_code(plan.tariff_code))) is not None:
            PricePlan.objects.filter(pk=plan.pk).update(tariff_id=pk)


def _fill_tariff_code(apps, schema_editor):
    PricePlan = apps.get_model("orders", "PricePlan")
    for plan in PricePlan.objects.exclude(tariff=None).select_related("tariff").order_by("pk"):
        PricePlan.objects.filter(pk=plan.pk).update(tariff_code=plan.tariff.code)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_order_port_in_partner_and_quote_token"),
        ("billing", "0004_tariffs_from_plan_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="priceplan",
            name="tariff",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "The tariff that rates usage beyond the allowances (none: usage is refused)."
                ),
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="plans",
                to="billing.tariff",
            ),
        ),
        migrations.RunPython(_fill_tariff, _fill_tariff_code),
        migrations.RemoveField(model_name="priceplan", name="tariff_code"),
    ]
