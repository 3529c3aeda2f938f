"""The reasons a customer may give: the list every shop starts with, edited in the cockpit
afterwards (admin → Return reasons; switch a reason off rather than delete it)."""

from __future__ import annotations

from django.db.models import QuerySet

from returns.models import ReturnReason

# (code, English, German): seeded the first time the list is needed (`return_reasons_active`)
# and by the demo, so no migration has to carry a copy of it.
DEFAULT_REASONS = [
    ("too_small", "Too small", "Zu klein"),
    ("too_large", "Too large", "Zu groß"),
    ("not_as_described", "Not as described", "Entspricht nicht der Beschreibung"),
    ("damaged", "Arrived damaged", "Beschädigt angekommen"),
    ("wrong_item", "Wrong item sent", "Falscher Artikel geliefert"),
    ("quality", "Quality not as expected", "Qualität entspricht nicht den Erwartungen"),
    ("changed_mind", "Changed my mind", "Nicht mehr gewünscht"),
    ("other", "Other", "Sonstiges"),
]


def return_reasons_seed() -> None:
    """Create the default reasons that do not exist (idempotent; the demo seeds with it)."""
    for position, (code, en, de) in enumerate(DEFAULT_REASONS, start=1):
        ReturnReason.objects.get_or_create(
            code=code, defaults={"label_en": en, "label_de": de, "position": position * 10})


def return_reasons_active() -> QuerySet[ReturnReason]:
    """The reasons offered now. A shop whose list is empty (never set up, or every row
    deleted instead of switched off) gets the defaults back rather than a return nobody can
    register."""
    if not ReturnReason.objects.exists():
        return_reasons_seed()
    return ReturnReason.objects.filter(is_active=True)
