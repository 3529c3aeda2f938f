"""Demo click-and-collect: store staff for Berlin and München, and a few pickup orders at the
Berlin store (the one the demo POS token is confined to), placed and picked through the same
services as the API. Runs after `seed_demo`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import F, Q

from fulfillment.models import FulfillmentOrder
from fulfillment.pickup import pickup_code, pickup_pick
from fulfillment.states import TO_PICK, FulfillmentKind, FulfillmentStatus
from fulfillment.use_cases.order_intake import OrderRequest, order_place
from inventory.models import Location, StockLevel
from inventory.sourcing import DeliveryRequest
from oms.core.models import ApiClient
from oms.orders.models import OrderLine
from oms.orders.services import CustomerData, OrderLineData
from payments.services import PaymentData

STAFF_GROUP = "Filialpersonal"
# What store staff may do in the cockpit; the store screens and the admin lists further
# confine them to their own stores.
STAFF_PERMISSIONS = [
    ("fulfillment", "view_fulfillmentorder"), ("fulfillment", "change_fulfillmentorder"),
    ("inventory", "view_stocklevel"), ("inventory", "view_stockmovement"),
    ("orders", "view_order"),
    # Taking goods back at the counter (returns.cockpit) and the store's returns.
    ("returns", "view_return"), ("returns", "add_return"), ("returns", "change_return"),
    ("returns", "view_returnreason"),
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


READY = FulfillmentStatus.READY_FOR_PICKUP


@dataclass(frozen=True)
class DemoPickups:
    numbers: list[str]  # the open pickup orders at the store, oldest first
    placed: int  # how many of them this run placed
    ready: FulfillmentOrder | None  # the one waiting at the counter
    ready_code: str | None  # the code its customer shows


def seed_pickups(store_code: str = "ST-BER", count: int = 4) -> DemoPickups:
    """Keep `count` open pickup orders of the demo webshop at the store, one of them ready for
    pickup. Running it again places only the missing ones (after a handover, a cancellation)
    and picks one only if none is ready, so the store's numbers stay those of a working day
    instead of growing with every run. New orders take SKUs the store has available."""
    shop = ApiClient.objects.get(name="demo-webshop")
    open_pickups = (FulfillmentOrder.objects
                    .filter(location__code=store_code, kind=FulfillmentKind.PICKUP,
                            order__placed_by=shop.name, status__in=[*TO_PICK, READY])
                    .select_related("order").order_by("pk"))
    have = list(open_pickups)
    used = set(OrderLine.objects.filter(order__in=[fo.order for fo in have])
               .values_list("product_id", flat=True))
    # Two lines of at most 2 units each; skip SKUs the open pickups hold already, so each
    # order shows its own lines in the cockpit.
    levels = [lv for lv in StockLevel.objects.filter(location__code=store_code)
              .annotate(free=F("on_hand") - F("reserved") - F("safety_stock"))
              .filter(free__gte=2).select_related("product").order_by("product_id")
              if lv.product_id not in used]
    missing = max(count - len(have), 0)
    placed = []
    for n in range(min(missing, len(levels) // 2)):
        placed.append(_place(shop, store_code, len(have) + n, levels[2 * n:2 * n + 2]))
    to_pick = open_pickups.filter(status__in=TO_PICK).first()
    if to_pick is not None and not open_pickups.filter(status=READY).exists():
        picked = {line.order_line.product_id: line.quantity - line.cancelled
                  for line in to_pick.lines.select_related("order_line")}
        pickup_pick(fulfillment=to_pick, picked=picked, actor="demo")
    ready = open_pickups.filter(status=READY).first()
    numbers = [fo.order.number for fo in open_pickups.all()]
    return DemoPickups(numbers=numbers, placed=len(placed), ready=ready,
                       ready_code=pickup_code(ready) if ready is not None else None)


def _place(shop: ApiClient, store_code: str, n: int, levels: list[StockLevel]) -> str:
    lines = [OrderLineData(sku=lv.product_id, quantity=1 + (n + i) % 2,
                           unit_price=_price(lv), tax_rate=Decimal("19.00"))
             for i, lv in enumerate(levels)]
    total = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0.00"))
    email, name = CUSTOMERS[n % len(CUSTOMERS)]
    placed = order_place(client=shop, request=OrderRequest(
        customer=CustomerData(email=email, name=name), currency="EUR", lines=lines,
        delivery=DeliveryRequest(method="pickup", location=store_code),
        delivery_address={},
        payment=(PaymentData(method="pay_in_store", status="pending", amount=total)
                 if n % 2 else
                 PaymentData(method="card", status="authorized", amount=total,
                             psp_reference=f"demo-pickup-{secrets.token_hex(6)}")),
    ))
    return placed.order.number


def _price(level: StockLevel) -> Decimal:
    price = level.product.prices.order_by("pk").first()
    return price.amount if price is not None else Decimal("19.90")
