"""Prefix indexes for the console's name search on PostgreSQL.

Django's `istartswith` compiles to `UPPER(col::text) LIKE UPPER(%s)`, so these expression
indexes use the same expression with text_pattern_ops. Built CONCURRENTLY, outside a
transaction, so they can be added to a live database. SQLite needs none of this.
"""

from django.db import migrations

COLUMNS = ["last_name", "first_name", "company_name"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS crm_customer_{column}_prefix "
            f'ON crm_customer (UPPER(("{column}")::text) text_pattern_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS crm_customer_{column}_prefix")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("crm", "0002_initial")]

    operations = [migrations.RunPython(create, drop)]
