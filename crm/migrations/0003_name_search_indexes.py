"""Indexes for the console's name search on PostgreSQL.

crm.selectors searches names as byte-ordered ranges over UPPER(name) COLLATE "C" and orders by
the same keys, so each candidate query is one ordered index range scan that stops at the page
limit. Built CONCURRENTLY, outside a transaction, so they can be added to a live database.
SQLite needs none of this.
"""

from django.db import migrations

INDEXES = {
    "crm_customer_last_first_key": ("last_name", "first_name"),
    "crm_customer_first_last_key": ("first_name", "last_name"),
    "crm_customer_company_key": ("company_name",),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        keys = ", ".join(f'(UPPER("{column}") COLLATE "C")' for column in columns)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON crm_customer ({keys}, id)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("crm", "0002_initial")]

    operations = [migrations.RunPython(create, drop)]
