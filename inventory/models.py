"""Locations, stock levels per SKU and location, and the append-only movement journal."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from oms.catalog.models import Product

LOCATION_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$"


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")
    STORE = "store", _("Store")
    SUPPLIER = "supplier", _("Supplier site")


class Capability(models.TextChoices):
    SHIPS = "ships", _("Ships parcels")
    CLICK_AND_COLLECT = "click_and_collect", _("Click and collect")
    SHIP_FROM_STORE = "ship_from_store", _("Ship from store")
    ACCEPTS_RETURNS = "accepts_returns", _("Accepts returns")


STORE_ONLY_CAPABILITIES = frozenset({Capability.CLICK_AND_COLLECT, Capability.SHIP_FROM_STORE})


class Location(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices)
    address = models.JSONField(_("address"), default=dict, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    ships = models.BooleanField(_("ships parcels"), default=False)
    click_and_collect = models.BooleanField(_("click and collect"), default=False)
    ship_from_store = models.BooleanField(_("ship from store"), default=False)
    accepts_returns = models.BooleanField(_("accepts returns"), default=False)
    priority = models.PositiveIntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are preferred when sourcing.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    pickup_hold_days = models.PositiveSmallIntegerField(
        _("pickup hold days"), default=3,
        help_text=_("How long a ready pickup waits for the customer before it expires."))
    # Store staff see and change only their stores' fulfilments, stock and pickups in the
    # cockpit (superusers see everything).
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="stores", blank=True,
                                   verbose_name=_("staff"))
    # Where new fulfilment orders are pushed (signed like our webhooks, with `wms_secret`);
    # empty: the location's system polls GET /api/v1/fulfillments instead.
    wms_url = models.URLField(_("WMS endpoint"), max_length=500, blank=True, default="")
    wms_secret = models.CharField(_("WMS signing secret"), max_length=100, blank=True,
                                  default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["priority", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["warehouse", "store", "supplier"]),
                name="location_kind_valid",
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lon__isnull=True))
                | (Q(lat__gte=-90, lat__lte=90) & Q(lon__gte=-180, lon__lte=180)),
                name="location_coordinates_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="store") | (Q(click_and_collect=False) & Q(ship_from_store=False)),
                name="store_capabilities_only_on_stores",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def capabilities(self) -> list[str]:
        return [c.value for c in Capability if getattr(self, c.value)]

    @property
    def ships_parcels(self) -> bool:
        """Warehouses and supplier sites ship with `ships`; stores need `ship_from_store`."""
        return self.ship_from_store if self.kind == LocationKind.STORE else self.ships

    @property
    def offers_pickup(self) -> bool:
        return self.kind == LocationKind.STORE and self.click_and_collect


class StockLevel(models.Model):
    """available = on_hand - reserved - safety_stock. on_hand may fall below reserved after a
    count; that is a shortfall to re-source (an event), not an error.

    The two composite indexes (the unique one and `stock_by_location`) serve every lookup, so
    the foreign keys get no index of their own: each extra index is written on every snapshot
    and reservation. A third, `stock_by_sku_covering` (migration 0008, PostgreSQL only), holds
    every count by SKU so that availability reads never visit the table; the price is that
    changing `on_hand` or `reserved` is no longer a heap-only (HOT) update and writes an entry
    into each index (bench/README.md, availability). The fillfactor of 70 (migration 0005) still
    keeps the new row version on the same page."""

    product = models.ForeignKey(Product, to_field="sku", db_column="sku", on_delete=models.PROTECT,
                                related_name="stock_levels", db_index=False,
                                verbose_name=_("product"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels",
                                 db_index=False, verbose_name=_("location"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    safety_stock = models.IntegerField(_("safety stock"), default=0)
    snapshot_as_of = models.DateTimeField(_("last snapshot as of"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["product", "location"],
                                    name="one_level_per_sku_location"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="reserved_not_negative"),
            models.CheckConstraint(condition=Q(safety_stock__gte=0),
                                   name="safety_stock_not_negative"),
        ]
        indexes = [models.Index(fields=["location", "product"], name="stock_by_location")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}"

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved - self.safety_stock, 0)


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment")
    DAMAGE = "damage", _("Damage")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    COUNT = "count", _("Stock count (snapshot)")
    PICK = "pick", _("Pick")
    SHIP = "ship", _("Shipment")
    RETURN = "return", _("Return")


# The sign each kind of fed movement must have; adjustments go either way.
MOVEMENT_SIGN = {
    MovementKind.RECEIPT: 1,
    MovementKind.TRANSFER_IN: 1,
    MovementKind.DAMAGE: -1,
    MovementKind.TRANSFER_OUT: -1,
}
FED_MOVEMENT_KINDS = (
    MovementKind.RECEIPT, MovementKind.ADJUSTMENT, MovementKind.DAMAGE,
    MovementKind.TRANSFER_IN, MovementKind.TRANSFER_OUT,
)


class StockMovement(models.Model):
    """Append-only journal of on-hand changes; PostgreSQL refuses UPDATE and DELETE on it.

    Its rows are written only next to a change of a `StockLevel`, which enforces the product and
    location references in the database; the journal itself skips the constraint checks (a
    snapshot writes thousands of rows per call) and Django still refuses to delete a product or
    location that has movements (PROTECT)."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements",
                                 db_index=False, db_constraint=False, verbose_name=_("location"))
    product = models.ForeignKey(Product, to_field="sku", db_column="sku", on_delete=models.PROTECT,
                                related_name="movements", db_index=False, db_constraint=False,
                                verbose_name=_("product"))
    quantity = models.IntegerField(_("quantity"))
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    reference = models.CharField(_("reference"), max_length=200, blank=True, default="")
    on_hand_after = models.IntegerField(_("on hand after"))
    actor = models.CharField(_("actor"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_not_zero"),
            models.CheckConstraint(condition=Q(on_hand_after__gte=0),
                                   name="movement_on_hand_after_not_negative"),
        ]
        indexes = [
            models.Index(fields=["location", "product", "created_at"],
                         name="movement_by_sku_location"),
            models.Index(fields=["product", "created_at"], name="movement_by_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.product_id}@{self.location_id}"


class ReservationKind(models.TextChoices):
    CART = "cart", _("Cart hold")
    ORDER = "order", _("Order")


class ReservationState(models.TextChoices):
    ACTIVE = "active", _("Active")
    CONSUMED = "consumed", _("Consumed by an order")
    RELEASED = "released", _("Released")
    EXPIRED = "expired", _("Expired")


class Reservation(ConcurrentTransitionMixin, models.Model):
    """Units held for a cart (with a deadline) or an order. The held units sit in
    `StockLevel.reserved`; the lines say where. A hold ends exactly once: consumed by the order
    that names it, released, or expired by the sweep."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=ReservationKind.choices)
    state = FSMField(_("state"), default=ReservationState.ACTIVE,
                     choices=ReservationState.choices, protected=True)
    reference = models.CharField(_("reference"), max_length=200)
    channel = models.CharField(_("channel"), max_length=50, blank=True, default="")
    delivery_method = models.CharField(_("delivery"), max_length=10)
    pickup_location = models.CharField(_("pickup store"), max_length=50, blank=True, default="")
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    consumed_by = models.CharField(_("consumed by order"), max_length=50, blank=True, default="")
    # The API client that made a cart hold (its unique name): a client confined to a store sees
    # the holds it made and those at its store (inventory.scope.holds_in_scope). A database
    # default too: processes of the previous release insert holds without this column.
    placed_by = models.CharField(_("placed by"), max_length=100, blank=True, default="",
                                 db_default="")
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        indexes = [
            models.Index(fields=["expires_at"], name="reservation_hold_due",
                         condition=Q(state="active", kind="cart")),
            models.Index(fields=["kind", "reference"], name="reservation_by_reference"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="order") | Q(expires_at__isnull=False),
                name="cart_hold_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference} ({self.state})"

    @transition(field=state, source=ReservationState.ACTIVE, target=ReservationState.CONSUMED)
    def consume(self) -> None: ...

    @transition(field=state, source=ReservationState.ACTIVE, target=ReservationState.RELEASED)
    def release(self) -> None: ...

    @transition(field=state, source=ReservationState.ACTIVE, target=ReservationState.EXPIRED)
    def expire(self) -> None: ...


class ReservationLine(models.Model):
    # Every cart hold writes a line while it holds the hot stock row's lock, so a line keeps
    # only the database checks that say something: its reservation and its stock level. SKU and
    # location are the stock level's own, copied for reading; the stock level's foreign keys
    # already keep both alive, and checking them again locked the product's and the location's
    # rows in every hold. Lines are read by reservation (the unique constraint's index serves
    # that), by stock level, and by location (a store's view of the reservations in the cockpit).
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines",
                                    db_index=False)
    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, to_field="sku", db_column="sku",
                                on_delete=models.PROTECT, related_name="+",
                                db_constraint=False, db_index=False, verbose_name=_("product"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+",
                                 db_constraint=False, verbose_name=_("location"))
    quantity = models.PositiveIntegerField(_("quantity held"))

    class Meta:
        verbose_name = _("reservation line")
        verbose_name_plural = _("reservation lines")
        constraints = [
            models.UniqueConstraint(fields=["reservation", "stock_level"],
                                    name="reservation_line_per_stock_level"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}@{self.location_id}"
