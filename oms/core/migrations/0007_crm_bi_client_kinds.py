"""Client kinds `crm` and `bi`, which read every customer profile (API.md, Customers)."""

from django.db import migrations, models

KINDS = [("webshop", "Webshop"), ("pos", "Point of sale"), ("app", "App"),
         ("marketplace", "Marketplace"), ("wms", "Warehouse management system"), ("erp", "ERP"),
         ("pim", "PIM"), ("psp", "Payment service provider"), ("supplier", "Dropship supplier"),
         ("finance", "Finance"), ("staff", "Staff / back office"), ("crm", "CRM"),
         ("bi", "Business intelligence")]


class Migration(migrations.Migration):

    dependencies = [("core", "0006_webhook_deliveries_to_attempts")]

    operations = [
        migrations.AlterField(
            model_name="apiclient", name="kind",
            field=models.CharField(choices=KINDS, max_length=20, verbose_name="kind")),
        migrations.RemoveConstraint(model_name="apiclient", name="api_client_kind_valid"),
        migrations.AddConstraint(
            model_name="apiclient",
            constraint=models.CheckConstraint(
                condition=models.Q(kind__in=[k for k, _ in KINDS]),
                name="api_client_kind_valid")),
    ]
