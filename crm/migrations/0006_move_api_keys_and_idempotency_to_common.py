# API keys and idempotency records are shared plumbing: their tables move to the common app.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0005_subscriber_plan"),
    ]

    operations = [
        # Issuing API keys is now a permission of the key model (common.manage_api_keys).
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [
                    ("access_console", "Open the CSR console"),
                    ("access_backoffice", "Open the back office"),
                    ("access_partner_portal", "Open the partner portal"),
                    ("access_selfcare", "Open the self-care site"),
                ]
            },
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="apikey", table="common_apikey"),
                migrations.AlterModelTable(
                    name="idempotencyrecord", table="common_idempotencyrecord"
                ),
            ],
            state_operations=[
                migrations.DeleteModel(name="ApiKey"),
                migrations.DeleteModel(name="IdempotencyRecord"),
            ],
        ),
    ]
