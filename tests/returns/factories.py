"""factory-boy factories of returns: a return as the world a test starts from (the code under
test registers returns through the API)."""

from __future__ import annotations

import factory
from django.utils import timezone

from inventory.models import LocationKind
from returns.models import Return, ReturnLine, ReturnReason
from returns.states import Condition, ReturnMode


class ReturnFactory(factory.django.DjangoModelFactory):
    """A requested return of `order`, taken back at `location` (in store at a store, by mail
    anywhere else)."""

    class Meta:
        model = Return

    number = factory.Sequence(lambda n: f"R-TEST-{n}")
    mode = factory.LazyAttribute(lambda o: ReturnMode.IN_STORE
                                 if o.location.kind == LocationKind.STORE else ReturnMode.MAIL)
    refund_method = "original"
    currency = factory.LazyAttribute(lambda o: o.order.currency)
    placed_by = "a till"
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class ReturnReasonFactory(factory.django.DjangoModelFactory):
    """A reason of the list (the defaults are seeded on first use, not by a migration)."""

    class Meta:
        model = ReturnReason
        django_get_or_create = ("code",)

    code = "too_small"
    label_en = "Too small"
    label_de = "Zu klein"


class ReturnLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnLine

    return_order = factory.SubFactory(ReturnFactory)
    quantity = 1
    reason = factory.SubFactory(ReturnReasonFactory)
    condition = Condition.RESELLABLE


def a_return(*, order: object, location: object, placed_by: str = "a till") -> Return:
    """A requested return of every line of `order`, one unit each."""
    ret = ReturnFactory(order=order, location=location, placed_by=placed_by)
    for line in order.lines.all():  # type: ignore[attr-defined]
        ReturnLineFactory(return_order=ret, order_line=line)
    return ret
