"""Demo click-and-collect: store staff for Berlin and München, and a few pickup orders at the
Berlin store (the one the demo POS token is confined to), placed and picked through the same
services as the API. Runs after `seed_demo`."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from fulfillment.intake import OrderRequest, order_place
from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_pick
from inventory.models import Location, StockLevel
from inventory.sourcing import DeliveryRequest
from oms.core.models import ApiClient
from oms.orders.services import CustomerData, OrderLineData
from payments.services import PaymentData

STAFF_GROUP = "Filialpersonal"
# What store staff may do in the cockpit; the store screens and the admin lists further
# confine them to their own stores.
STAFF_PERMISSIONS = [
    ("fulfillment", "view_fulfillmentorder"), ("fulfillment", "change_fulfillmentorder"),
    ("inventory", "view_stocklevel"), ("inventory", "view_stockmovement"),
    ("orders", "view_order"),
]
STAFF = {"filiale-berlin": "ST-BER", "filiale-muenchen": "ST-MUC"}
CUSTOMERS = [("lena.wagner@example.de", "Lena Wagner"), ("jonas.becker@example.de",
                                                          "Jonas Becker"),
             ("mia.schulz@example.de", "Mia Schulz"), ("paul.hoffmann@example.de",
                                                       "Paul Hoffmann")]


def seed_staff() -> dict[str, str]:
    """Store staff users with fresh passwords (re-running resets them): username -> password."""
    group, _created = Group.objects.get_or_create(name=STAFF_GROUP)
    wanted = Q()
    for app, codename in STAFF_PERMISSIONS:
        wanted |= Q(content_type__app_label=app, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    passwords = {}
    for username, store in STAFF.items():
        user, _created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True})
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_staff = True
        user.save()
        user.groups.add(group)
        Location.objects.get(code=store).staff.add(user)
        passwords[username] = password
    return passwords


def seed_pickups(store_code: str = "ST-BER", count: int = 4) -> list[str]:
    """Pickup orders at the store, the first one already picked and ready; returns numbers."""
    shop = ApiClient.objects.get(name="demo-webshop")
    levels = list(StockLevel.objects.filter(location__code=store_code, on_hand__gte=3)
                  .select_related("product").order_by("product_id")[:count * 2])
    numbers = []
    for n in range(min(count, len(levels) // 2)):
        lines = [OrderLineData(sku=lv.product_id, quantity=1 + (n + i) % 2,
                               unit_price=_price(lv), tax_rate=Decimal("19.00"))
                 for i, lv in enumerate(levels[2 * n:2 * n + 2])]
        total = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0.00"))
        email, name = CUSTOMERS[n % len(CUSTOMERS)]
        order = order_place(client=shop, request=OrderRequest(
            customer=CustomerData(email=email, name=name), currency="EUR", lines=lines,
            delivery=DeliveryRequest(method="pickup", location=store_code),
            delivery_address={},
            payment=(PaymentData(method="pay_in_store", status="pending", amount=total)
                     if n % 2 else
                     PaymentData(method="card", status="authorized", amount=total,
                                 psp_reference=f"demo-pickup-{secrets.token_hex(6)}")),
        ))
        numbers.append(order.number)
        if n == 0:
            fo = FulfillmentOrder.objects.get(order=order, location__code=store_code)
            pickup_pick(fulfillment=fo, picked={ln.sku: ln.quantity for ln in lines},
                        actor="demo")
    return numbers


def _price(level: StockLevel) -> Decimal:
    price = level.product.prices.order_by("pk").first()
    return price.amount if price is not None else Decimal("19.90")
