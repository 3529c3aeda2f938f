"""Consent records (issue 20): a journal, so PostgreSQL refuses to update or delete them, as it
does for stock movements (inventory 0002)."""

import django.db.models.deletion
from django.db import migrations, models

from oms.core.migration_ops import run_sql

PURPOSES = [("email_marketing", "E-mail marketing"), ("push", "Push messages"),
            ("in_store_offers", "Offers in the store"), ("profiling", "Profiling")]
CREATE = """
CREATE OR REPLACE FUNCTION orders_refuse_consent_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent records are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER orders_consent_append_only
    BEFORE UPDATE OR DELETE ON orders_consent
    FOR EACH ROW EXECUTE FUNCTION orders_refuse_consent_change();
"""
DROP = """
DROP TRIGGER IF EXISTS orders_consent_append_only ON orders_consent;
DROP FUNCTION IF EXISTS orders_refuse_consent_change();
"""


class Migration(migrations.Migration):

    dependencies = [("orders", "0008_customer_public_id_unique")]

    operations = [
        migrations.CreateModel(
            name="Consent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("purpose", models.CharField(choices=PURPOSES, max_length=30,
                                             verbose_name="purpose")),
                ("granted", models.BooleanField(verbose_name="granted")),
                ("source", models.CharField(max_length=100, verbose_name="source")),
                ("at", models.DateTimeField(verbose_name="given at")),
                ("recorded_at", models.DateTimeField(verbose_name="recorded at")),
                ("recorded_by", models.CharField(max_length=100, verbose_name="recorded by")),
                ("customer", models.ForeignKey(
                    db_index=False, on_delete=django.db.models.deletion.PROTECT,
                    related_name="consents",
                    to="orders.customer", verbose_name="customer")),
            ],
            options={
                "verbose_name": "consent",
                "verbose_name_plural": "consents",
                "indexes": [models.Index(fields=["customer", "purpose", "-at", "-id"],
                                         name="consent_latest_per_purpose")],
                "constraints": [models.CheckConstraint(
                    condition=models.Q(purpose__in=[p for p, _ in PURPOSES]),
                    name="consent_purpose_valid")],
            },
        ),
        run_sql(CREATE, DROP),
    ]
