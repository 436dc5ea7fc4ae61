"""A tariff for every tariff code the price plans named before tariffs were records, so the
next orders migration can point each plan at its tariff. The tariffs have no version yet: until
one is published, usage on those plans is refused with the reason no_tariff."""

import re

from django.db import migrations


def _tariffs_from_codes(apps, schema_editor):
    PricePlan = apps.get_model("orders", "PricePlan")
    Tariff = apps.get_model("billing", "Tariff")
    rows = PricePlan.objects.exclude(tariff_code="").values_list("tariff_code", "currency")
    for raw, currency in rows.order_by("pk"):
        code = re.sub(r"[^a-z0-9]+", "-", raw.strip().lower()).strip("-")[:40]
        if code:
            Tariff.objects.get_or_create(
                code=code,
                defaults={
                    "name": raw.strip(),
                    "currency": currency,
                    "description": "Made from the tariff code of the price plans that named it.",
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_tariffs"),
        ("billing", "0003_usage_records"),
        ("orders", "0004_order_port_in_partner_and_quote_token"),
    ]

    operations = [migrations.RunPython(_tariffs_from_codes, migrations.RunPython.noop)]
