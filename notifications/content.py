"""What a notification says: the template data per kind, and rendering it in one language.

Templates live in `notifications/templates/notifications/<language>/<kind>/`: `subject.txt`,
`body.txt`, `body.html` (extending the language-neutral `notifications/base.html`) and `push.txt`
(the one-line app push). Each language folder is complete on its own; a new language is a copied
folder plus an entry in `NOTIFICATION_LANGUAGES`.

Everything here runs under `translation.override(language)`, so money, dates and any gettext
text in the data come out in the order's language, and under `timezone.override(TIME_ZONE)`, so
times read on German clocks whichever time zone the worker has active.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Engine, engines
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.states import FulfillmentStatus
from inventory.models import Location
from oms.catalog.models import Product
from oms.orders.models import DeliveryMethod, Order, OrderLine

CARRIER_NAMES = {"dhl": "DHL", "dpd": "DPD", "hermes": "Hermes", "ups": "UPS", "gls": "GLS"}
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
# Our stores and customers are in Germany: a pickup deadline "until 20:00" is the store's clock.
TIME_ZONE = ZoneInfo("Europe/Berlin")

Units = Mapping[str, int]  # {sku: quantity}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    push: str
    url: str


# --- formatting -----------------------------------------------------------------------------
def money(amount: Decimal, currency: str) -> str:
    """`30,00 €` in German, `€30.00` in English, in the active language."""
    number = formats.number_format(Decimal(amount), decimal_pos=2, use_l10n=True,
                                   force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if translation.get_language() == "de":
        return f"{number}\N{NO-BREAK SPACE}{symbol}"
    return f"{symbol}{number}" if len(symbol) == 1 else f"{symbol}\N{NO-BREAK SPACE}{number}"


def carrier_name(carrier: str) -> str:
    return CARRIER_NAMES.get(carrier.strip().lower(), carrier.strip())


def tracking_url(carrier: str, tracking_number: str, language: str) -> str:
    """The carrier's tracking page from `CARRIER_TRACKING_URLS` ("" for an unknown carrier)."""
    template = settings.CARRIER_TRACKING_URLS.get(carrier.strip().lower())
    if not template or not tracking_number:
        return ""
    return template.format(tracking_number=quote(tracking_number, safe=""),
                           language=quote(language, safe=""))


def order_url(order: Order) -> str:
    if not settings.NOTIFICATION_ORDER_URL:
        return ""
    return settings.NOTIFICATION_ORDER_URL.format(number=quote(order.number, safe=""),
                                                  language=order.language)


def units_of(lines: Iterable[Mapping[str, Any]] | None) -> Counter[str]:
    """`[{"sku", "quantity"}, ...]` as {sku: quantity} (a SKU listed twice is summed)."""
    units: Counter[str] = Counter()
    for line in lines or []:
        units[str(line["sku"])] += int(line["quantity"])
    return +units  # drops zeroes


def items(units: Units) -> list[dict[str, Any]]:
    """Lines to show: product name (the SKU if the catalogue lacks it), SKU and quantity."""
    names = dict(Product.objects.filter(sku__in=list(units)).values_list("sku", "name"))
    return [{"name": names.get(sku) or sku, "sku": sku, "quantity": quantity}
            for sku, quantity in units.items()]


def address_lines(address: Mapping[str, Any]) -> list[str]:
    town = " ".join(str(address.get(k) or "").strip() for k in ("postal_code", "city")).strip()
    # A customer's address has line1/line2 (oms.core.api.address); a store's has street.
    parts = [address.get("name"), address.get("line1") or address.get("street"),
             address.get("line2"), town, address.get("country")]
    return [str(p).strip() for p in parts if p and str(p).strip()]


def _still_coming(order: Order) -> bool:
    """Units neither fulfilled nor cancelled remain (read when the event is handled)."""
    return any(line.open_quantity > 0 for line in order.lines.all())


# --- the data per kind ----------------------------------------------------------------------
def base_context(order: Order, url: str = "") -> dict[str, Any]:
    return {
        "number": order.number,
        "customer_name": order.customer.name.strip(),
        "order_url": order_url(order),
        "url": url or order_url(order),
        "pickup": order.delivery_method == DeliveryMethod.PICKUP,
        "shop_name": settings.NOTIFICATION_SHOP_NAME,
    }


def order_confirmation_context(order: Order) -> dict[str, Any]:
    lines = list(OrderLine.objects.filter(order_id=order.pk).select_related("product")
                 .order_by("position"))
    pickup_store: dict[str, Any] = {}
    if order.delivery_method == DeliveryMethod.PICKUP:
        store = Location.objects.filter(code=order.pickup_location).first()
        pickup_store = {"name": store.name if store else order.pickup_location,
                        "address_lines": address_lines(store.address) if store else []}
    return {
        **base_context(order),
        "placed_on": order.created_at,
        "items": [
            {"name": ln.product.name or ln.product_id, "sku": ln.product_id,
             "quantity": ln.quantity, "unit_price": money(ln.unit_price, order.currency),
             "total": money(ln.unit_price * ln.quantity, order.currency)}
            for ln in lines
        ],
        "total": money(order.total, order.currency),
        "address_lines": address_lines(order.delivery_address),
        "store": pickup_store,
    }


def shipped_context(order: Order, payload: Mapping[str, Any]) -> dict[str, Any]:
    shipment = payload.get("shipment") or {}
    carrier = str(shipment.get("carrier") or "")
    number = str(shipment.get("tracking_number") or "")
    link = tracking_url(carrier, number, translation.get_language() or "de")
    return {
        **base_context(order, url=link),
        "carrier": carrier_name(carrier),
        "tracking_number": number,
        "tracking_url": link,
        "items": items(units_of(shipment.get("lines"))),
        "more_to_follow": _still_coming(order),
    }


def delayed_units(payload: Mapping[str, Any]) -> Counter[str] | None:
    """Units of the rejected or re-sourced fulfilment order that still come, i.e. moved
    elsewhere rather than cancelled. The moved-out units are the payload's `lines` when it has
    them (a short pick: the rest of the fulfilment ships as planned), otherwise every unit of
    the fulfilment order (a rejection). None when neither is known here."""
    if payload.get("lines"):
        moved_out = units_of(payload["lines"])
    else:
        moved_out = Counter()
        for line in FulfillmentLine.objects.filter(fulfillment_id=payload.get("id")) \
                .select_related("order_line"):
            moved_out[line.order_line.product_id] += line.quantity
        if not moved_out:
            return None
    return moved_out - units_of(payload.get("cancelled"))


def delay_context(order: Order, payload: Mapping[str, Any]) -> dict[str, Any]:
    delayed = delayed_units(payload)
    return {
        **base_context(order),
        "delayed": items(delayed) if delayed else [],
        "resourced": bool(payload.get("resourced_to")),
        "cancelled": items(units_of(payload.get("cancelled"))),
        # A pickup restocked by a transfer: the new date the customer can count on.
        "expected_ready": (parse_datetime(payload["expected_ready_at"])
                           if isinstance(payload.get("expected_ready_at"), str) else None),
    }


def items_unavailable_context(order: Order, cancelled: Units) -> dict[str, Any]:
    return {**base_context(order), "cancelled": items(cancelled),
            "still_coming": _still_coming(order)}


def delivered_context(order: Order, payload: Mapping[str, Any]) -> dict[str, Any]:
    at = payload.get("at")
    others_underway = (
        FulfillmentOrder.objects.filter(order=order).exclude(pk=payload.get("id"))
        .exclude(status__in=[FulfillmentStatus.DELIVERED, FulfillmentStatus.CANCELLED,
                             FulfillmentStatus.REJECTED])
        .exists()
    )
    feedback = settings.NOTIFICATION_FEEDBACK_URL
    return {
        **base_context(order),
        "delivered_at": parse_datetime(at) if isinstance(at, str) else None,
        "more_to_follow": others_underway,
        "feedback_url": feedback.format(number=quote(order.number, safe=""),
                                        language=order.language) if feedback else "",
    }


# --- rendering ------------------------------------------------------------------------------
@cache
def _text_engine() -> Engine:
    """The project's template directories without HTML autoescaping: subjects, text bodies and
    pushes are plain text, where a product called "Salt & Pepper" must stay that way."""
    project = engines["django"].engine  # type: ignore[attr-defined]
    return Engine(dirs=project.dirs, app_dirs=True, autoescape=False,
                  libraries={"i18n": "django.templatetags.i18n",
                             "l10n": "django.templatetags.l10n"})


def render_text(name: str, context: dict[str, Any]) -> str:
    """A plain-text template (a subject, a text body, a push) rendered without escaping."""
    return _text_engine().get_template(name).render(Context(context, autoescape=False))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def tidy_text(text: str) -> str:
    """Template tags leave trailing blanks and runs of empty lines; keep at most one."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render(kind: str, language: str, context: dict[str, Any]) -> Rendered:
    folder = f"notifications/{language}/{kind}"
    with translation.override(language), timezone.override(TIME_ZONE):
        data = {**context, "language": language}
        subject = _one_line(render_text(f"{folder}/subject.txt", data))[:255]
        data["subject"] = subject
        return Rendered(
            subject=subject,
            text=tidy_text(render_text(f"{folder}/body.txt", data)),
            html=render_to_string(f"{folder}/body.html", data),
            push=_one_line(render_text(f"{folder}/push.txt", data)),
            url=str(context.get("url") or ""),
        )
