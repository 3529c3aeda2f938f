"""The reasons every shop starts with and the default policy (30 days, shipping refunded when
everything comes back); both are edited in the cockpit afterwards."""

from django.db import migrations

REASONS = [
    ("too_small", "Too small", "Zu klein"),
    ("too_large", "Too large", "Zu groß"),
    ("not_as_described", "Not as described", "Entspricht nicht der Beschreibung"),
    ("damaged", "Arrived damaged", "Beschädigt angekommen"),
    ("wrong_item", "Wrong item sent", "Falscher Artikel geliefert"),
    ("quality", "Quality not as expected", "Qualität entspricht nicht den Erwartungen"),
    ("changed_mind", "Changed my mind", "Nicht mehr gewünscht"),
    ("other", "Other", "Sonstiges"),
]


def seed(apps, schema_editor):
    ReturnReason = apps.get_model("returns", "ReturnReason")
    ReturnPolicy = apps.get_model("returns", "ReturnPolicy")
    for position, (code, en, de) in enumerate(REASONS, start=1):
        ReturnReason.objects.get_or_create(
            code=code, defaults={"label_en": en, "label_de": de, "position": position * 10})
    ReturnPolicy.objects.get_or_create(channel="")


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
