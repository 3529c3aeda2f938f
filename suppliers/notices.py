"""E-mails to dropship suppliers: a new order (one each, or one digest a day), a reminder when
an order is not acknowledged within the supplier's service level, and an escalation to staff
after `Supplier.escalation_hours` more.

Every e-mail is a row of `notifications.Notification` (channel ``email``, an arbitrary
recipient) sent by its attempt of kind ``notification``, the one mechanism every e-mail of the
OMS goes through: rows are written in the caller's transaction, sent after commit, retried with
a backoff, shown in the cockpit. Nothing is sent synchronously.

Why each e-mail goes out once: the row's unique (event_id, kind, channel) is the key. A new
order notice uses the `fulfillment.created` event's id; a reminder, an escalation and a digest
have no event, so their id is derived (uuid5) from what they are about, the fulfilment (or the
supplier and the day for a digest). A sweep run twice, or two sweeps at once, insert the same
key twice and the second insert is dropped (``ignore_conflicts``); the attempt is one per row.

A digest names many orders; its row hangs on the first of them (`Notification.order` is
required). The row kinds are not `NotificationKind` choices (that model belongs to
notifications); the column is free text, so they are stored as they are.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation

from fulfillment.models import FulfillmentLine, FulfillmentOrder
from fulfillment.states import FulfillmentKind, FulfillmentStatus
from notifications.content import TIME_ZONE, render_text, tidy_text
from notifications.models import Notification, NotificationChannel, NotificationKind
from notifications.services import NOTIFICATION
from oms.core.attempts.services import attempts_create
from oms.core.models import OutboxEvent
from oms.orders.models import Order
from suppliers.models import Supplier, SupplierSite

logger = logging.getLogger(__name__)

NEW_ORDER = NotificationKind.SUPPLIER_NEW_ORDER
ORDER_DIGEST = NotificationKind.SUPPLIER_ORDER_DIGEST
REMINDER = NotificationKind.SUPPLIER_REMINDER
ESCALATION = NotificationKind.SUPPLIER_ESCALATION
KINDS = (NEW_ORDER, ORDER_DIGEST, REMINDER, ESCALATION)
# Stored as the row's topic: what the e-mail is about when no event caused it.
TOPICS = {ORDER_DIGEST: "supplier.order_digest", REMINDER: "supplier.acknowledge_reminder",
          ESCALATION: "supplier.acknowledge_escalation"}
# Keys of the e-mails no event caused (see the module docstring). Never change it: a changed
# namespace would send every reminder again.
NOTICE_NAMESPACE = uuid.UUID("0b7d5e0c-7a43-4f0e-9d7c-5a1f3c2e8b61")
EMAIL = NotificationChannel.EMAIL


def notice_key(kind: str, *parts: object) -> uuid.UUID:
    return uuid.uuid5(NOTICE_NAMESPACE, ":".join([kind, *map(str, parts)]))


def supplier_language(supplier: Supplier) -> str:
    language = (supplier.language or "").strip().lower().split("-")[0]
    return language if language in settings.NOTIFICATION_LANGUAGES else \
        settings.NOTIFICATION_FALLBACK_LANGUAGE


def portal_url(path: str = "") -> str:
    """The portal's address for links in e-mails ("" when `SUPPLIER_PORTAL_URL` is unset)."""
    base = settings.SUPPLIER_PORTAL_URL.rstrip("/")
    return f"{base}/{path.lstrip('/')}" if base else ""


# --- rendering ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


def mail_render(kind: str, language: str, context: dict[str, Any]) -> Mail:
    """`suppliers/mail/<language>/<kind>/` subject.txt, body.txt and body.html, in the
    supplier's language and on German clocks (dates and "acknowledge by" times)."""
    folder = f"suppliers/mail/{language}/{kind}"
    with translation.override(language), timezone.override(TIME_ZONE):
        data = {**context, "language": language}
        subject = " ".join(render_text(f"{folder}/subject.txt", data).split())[:255]
        data["subject"] = subject
        return Mail(subject=subject, text=tidy_text(render_text(f"{folder}/body.txt", data)),
                    html=render_to_string(f"{folder}/body.html", data))


# --- what an e-mail says --------------------------------------------------------------------
def _items(fulfillment_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The lines of each fulfilment: SKU, product name, quantity (one query)."""
    items: dict[int, list[dict[str, Any]]] = {pk: [] for pk in fulfillment_ids}
    for fulfillment_id, sku, name, quantity in (
        FulfillmentLine.objects.filter(fulfillment_id__in=fulfillment_ids)
        .order_by("fulfillment_id", "order_line__position")
        .values_list("fulfillment_id", "order_line__product_id", "order_line__product__name",
                     "quantity")
    ):
        items[fulfillment_id].append({"sku": sku, "name": name or sku, "quantity": quantity})
    return items


def _order_facts(fulfillment: FulfillmentOrder, supplier: Supplier,
                 items: list[dict[str, Any]]) -> dict[str, Any]:
    acknowledge_by = fulfillment.created_at + timedelta(hours=supplier.acknowledge_hours)
    return {
        "number": fulfillment.order.number,
        "fulfillment": fulfillment.pk,
        "site": fulfillment.location.code,
        "received_at": fulfillment.created_at,
        "acknowledge_by": acknowledge_by,
        "escalate_at": acknowledge_by + timedelta(hours=supplier.escalation_hours),
        "items": items,
        "units": sum(item["quantity"] for item in items),
    }


def _context(supplier: Supplier, **extra: Any) -> dict[str, Any]:
    return {"supplier": supplier.name, "supplier_code": supplier.code,
            "acknowledge_hours": supplier.acknowledge_hours,
            "escalation_hours": supplier.escalation_hours,
            "portal_url": portal_url(), "shop_name": settings.NOTIFICATION_SHOP_NAME, **extra}


# --- writing the rows -----------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    key: uuid.UUID
    topic: str
    kind: str
    order: Order
    fulfillment: FulfillmentOrder | None
    recipient: str
    language: str
    context: dict[str, Any]


def notices_create(notices: Iterable[Notice]) -> list[Notification]:
    """One e-mail row per notice and its attempt (sent after commit); a notice whose key and
    kind exist already is dropped, so a second run writes and sends nothing."""
    notices = list(notices)
    if not notices:
        return []
    now = timezone.now()
    rows = []
    for notice in notices:
        mail = mail_render(notice.kind, notice.language, notice.context)
        rows.append(Notification(
            event_id=notice.key, topic=notice.topic, kind=notice.kind, channel=EMAIL,
            order=notice.order, fulfillment=notice.fulfillment, recipient=notice.recipient,
            language=notice.language, subject=mail.subject, body_text=mail.text,
            body_html=mail.html, url=notice.context.get("portal_url") or "", created_at=now))
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        written = list(Notification.objects.filter(
            event_id__in=[n.key for n in notices], kind__in={n.kind for n in notices},
            channel=EMAIL).order_by("pk"))
        # An attempt that exists already stays as it is (`attempts_create`): a row that was
        # sent is not queued again.
        attempts_create(kind=NOTIFICATION, target_ids=[n.pk for n in written])
    return written


def _already_written(keys: Iterable[uuid.UUID], kind: str) -> set[uuid.UUID]:
    """Keys of this kind with a row already: the sweep renders nothing for them. (Reads the
    unique constraint's index, whose first column is event_id.)"""
    return set(Notification.objects.filter(event_id__in=list(keys), kind=kind, channel=EMAIL)
               .values_list("event_id", flat=True))


# --- a new dropship order -------------------------------------------------------------------
def _site_supplier(location_id: int) -> Supplier | None:
    site = SupplierSite.objects.select_related("supplier").filter(location_id=location_id).first()
    return site.supplier if site is not None else None


def new_order_notice(event: OutboxEvent) -> Notification | None:
    """`fulfillment.created` of kind dropship: the supplier of its site gets one e-mail, unless
    it takes new orders as a daily digest, is inactive, or acknowledged already."""
    fulfillment = (FulfillmentOrder.objects.select_related("order", "location")
                   .filter(pk=event.payload.get("id"), kind=FulfillmentKind.DROPSHIP).first())
    if fulfillment is None:
        logger.warning("no dropship fulfilment %r for event %s: no supplier notice",
                       event.payload.get("id"), event.id)
        return None
    supplier = _site_supplier(fulfillment.location_id)
    if supplier is None:
        logger.warning("location %s is no supplier's site: no notice for fulfilment %s",
                       fulfillment.location.code, fulfillment.pk)
        return None
    if not supplier.is_active or supplier.order_digest:
        return None
    if fulfillment.status != FulfillmentStatus.PENDING:
        return None  # acknowledged (or re-sourced) before the relay got here
    items = _items([fulfillment.pk])[fulfillment.pk]
    notice = Notice(
        key=event.id, topic=event.topic, kind=NEW_ORDER, order=fulfillment.order,
        fulfillment=fulfillment, recipient=supplier.contact_email,
        language=supplier_language(supplier),
        context=_context(supplier, order=_order_facts(fulfillment, supplier, items)))
    written = notices_create([notice])
    return written[0] if written else None


# --- the daily digest -----------------------------------------------------------------------
def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), TIME_ZONE)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()),
                              TIME_ZONE)
    return start, end


def _dropship_pending(supplier: Supplier) -> Any:
    return FulfillmentOrder.objects.filter(
        location__supplier_site__supplier=supplier, kind=FulfillmentKind.DROPSHIP,
        status=FulfillmentStatus.PENDING)


def digests_send(now: datetime | None = None) -> list[Notification]:
    """For each active supplier taking new orders as a digest: one e-mail per past local day
    (the last `SUPPLIER_DIGEST_DAYS`) listing that day's dropship orders still waiting to be
    acknowledged, from `SUPPLIER_DIGEST_HOUR` o'clock of the next day on. A day with nothing
    waiting sends nothing; a day's digest is sent once (its key is the supplier and the day),
    and a sweep that did not run for a day catches up."""
    now = now or timezone.now()
    local = timezone.localtime(now, TIME_ZONE)
    newest = local.date() - timedelta(days=1 if local.hour >= settings.SUPPLIER_DIGEST_HOUR
                                      else 2)
    days = [newest - timedelta(days=n) for n in range(settings.SUPPLIER_DIGEST_DAYS)]
    notices = []
    for supplier in Supplier.objects.filter(is_active=True, order_digest=True).order_by("pk"):
        keys = {day: notice_key(ORDER_DIGEST, supplier.pk, day.isoformat()) for day in days}
        done = _already_written(keys.values(), ORDER_DIGEST)
        for day in days:
            if keys[day] in done:
                continue
            start, end = _day_bounds(day)
            waiting = list(_dropship_pending(supplier)
                           .filter(created_at__gte=start, created_at__lt=end)
                           .select_related("order", "location").order_by("created_at", "pk"))
            if not waiting:
                continue
            items = _items([fo.pk for fo in waiting])
            notices.append(Notice(
                key=keys[day], topic=TOPICS[ORDER_DIGEST], kind=ORDER_DIGEST,
                order=waiting[0].order, fulfillment=None, recipient=supplier.contact_email,
                language=supplier_language(supplier),
                context=_context(supplier, day=day, orders=[
                    _order_facts(fo, supplier, items[fo.pk]) for fo in waiting])))
    return notices_create(notices)


# --- reminders and escalations --------------------------------------------------------------
def escalation_recipient(supplier: Supplier) -> str:
    return supplier.escalation_email or settings.SUPPLIER_ESCALATION_EMAIL


def _overdue(supplier: Supplier, kind: str, before: datetime,
             limit: int) -> list[FulfillmentOrder]:
    """Dropship fulfilments of the supplier's sites pending since before `before` that have
    no e-mail of `kind` yet, oldest first. Per supplier, because each has its own hours: the
    filter is then (location, status, created_at) with constants, which the
    `fulfillment_worklist` index answers, rather than `created_at + hours` compared per row;
    the e-mails written are found by the notification's fulfilment (a foreign key, indexed)."""
    locations = [site.location_id for site in supplier.sites.all()]
    if not locations:
        return []
    written = Notification.objects.filter(fulfillment=OuterRef("pk"), kind=kind)
    return list(FulfillmentOrder.objects.filter(
        location_id__in=locations, status=FulfillmentStatus.PENDING,
        kind=FulfillmentKind.DROPSHIP, created_at__lte=before,
    ).filter(~Exists(written))
        .select_related("order", "location").order_by("created_at", "pk")[:limit])


def reminders_send(now: datetime | None = None) -> list[Notification]:
    """Reminders to suppliers for dropship orders not acknowledged within `acknowledge_hours`,
    and escalations to staff (`escalation_email`, else `SUPPLIER_ESCALATION_EMAIL`) for those
    still waiting `escalation_hours` later; each once per fulfilment. An order acknowledged
    (or rejected, or re-sourced) meanwhile is no longer pending and gets neither."""
    now = now or timezone.now()
    batch = settings.SUPPLIER_SWEEP_BATCH
    notices = []
    suppliers = Supplier.objects.filter(is_active=True).prefetch_related(
        Prefetch("sites", queryset=SupplierSite.objects.only("pk", "supplier_id",
                                                             "location_id")))
    for supplier in suppliers.order_by("pk"):
        remind_before = now - timedelta(hours=supplier.acknowledge_hours)
        escalate_before = remind_before - timedelta(hours=supplier.escalation_hours)
        staff = escalation_recipient(supplier)
        plan = [(REMINDER, remind_before, supplier.contact_email,
                 supplier_language(supplier))]
        if staff:
            plan.append((ESCALATION, escalate_before, staff,
                         settings.SUPPLIER_STAFF_LANGUAGE))
        else:
            logger.warning("supplier %s has no escalation e-mail and SUPPLIER_ESCALATION_EMAIL "
                           "is unset: no escalations", supplier.code)
        for kind, before, recipient, language in plan:
            todo = _overdue(supplier, kind, before, batch)
            items = _items([fo.pk for fo in todo])
            notices.extend(
                Notice(key=notice_key(kind, fo.pk), topic=TOPICS[kind], kind=kind,
                       order=fo.order,
                       fulfillment=fo, recipient=recipient, language=language,
                       context=_context(supplier, order=_order_facts(fo, supplier,
                                                                     items[fo.pk]),
                                        contact_email=supplier.contact_email,
                                        waiting_hours=int((now - fo.created_at)
                                                          .total_seconds() // 3600)))
                for fo in todo)
    return notices_create(notices)
