"""Dropship suppliers: the company, its sites (supplier locations in `inventory`), the people who
work in its portal, what it charges per SKU, and what it is owed.

A supplier's sites are `Location` rows of kind supplier; the link lives here (`SupplierSite`),
not on the location, because inventory is a lower layer and may not know suppliers
(ARCHITECTURE.md rule 1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Location


class Supplier(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("company"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"), max_length=254)
    # Staff are told when a supplier lets orders wait (escalation).
    escalation_email = models.EmailField(_("escalation e-mail (staff)"), max_length=254,
                                         blank=True, default="")
    language = models.CharField(_("language"), max_length=5, default="de",
                                choices=[("de", _("German")), ("en", _("English"))])
    # New dropship orders: one e-mail each, or one digest a day.
    order_digest = models.BooleanField(_("new orders as a daily digest"), default=False)
    # Service level: acknowledge a new order within this many hours, else a reminder; staff
    # are told after `escalation_hours` more.
    acknowledge_hours = models.PositiveSmallIntegerField(_("acknowledge within (hours)"),
                                                         default=24)
    escalation_hours = models.PositiveSmallIntegerField(_("escalate after (more hours)"),
                                                        default=24)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplierSite(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="sites",
                                 verbose_name=_("supplier"))
    location = models.OneToOneField(Location, on_delete=models.PROTECT,
                                    related_name="supplier_site", verbose_name=_("site"),
                                    limit_choices_to={"kind": "supplier"})

    class Meta:
        verbose_name = _("supplier site")
        verbose_name_plural = _("supplier sites")

    def __str__(self) -> str:
        return f"{self.supplier} · {self.location.code}"


class SupplierUser(models.Model):
    """A person of a supplier: logs in at /supplier/ and sees only that supplier's work."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="supplier_user", verbose_name=_("user"))
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="users",
                                 verbose_name=_("supplier"))

    class Meta:
        verbose_name = _("supplier user")
        verbose_name_plural = _("supplier users")

    def __str__(self) -> str:
        return f"{self.user} ({self.supplier})"


class PurchasePrice(models.Model):
    """What the supplier charges per unit of a SKU (net), from `valid_from` on."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE,
                                 related_name="purchase_prices", verbose_name=_("supplier"))
    product = models.ForeignKey("catalog.Product", to_field="sku", db_column="sku",
                                on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("product"))
    net_price = models.DecimalField(_("net purchase price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    tax_rate = models.DecimalField(_("input VAT rate"), max_digits=5, decimal_places=2,
                                   default=19)
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("purchase price")
        verbose_name_plural = _("purchase prices")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product", "valid_from"],
                                    name="purchase_price_once_per_day"),
            models.CheckConstraint(condition=Q(net_price__gte=0),
                                   name="purchase_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.net_price} {self.currency}"


class SettlementLine(models.Model):
    """What the supplier is owed for one shipment of a dropship fulfilment, booked as a payable
    in the ledger (`entry`). The monthly statement lists these."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT,
                                 related_name="settlement_lines", verbose_name=_("supplier"))
    fulfillment = models.ForeignKey("fulfillment.FulfillmentOrder", on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("fulfilment"))
    order_number = models.CharField(_("order"), max_length=20)
    source = models.CharField(_("source"), max_length=120, unique=True)  # the event
    shipped_on = models.DateField(_("shipped"), db_index=True)
    lines = models.JSONField(_("lines"), default=list)  # [{"sku", "quantity", "net_price"}]
    net_amount = models.DecimalField(_("net"), max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(_("input VAT"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("journal entry"))
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        indexes = [models.Index(fields=["supplier", "shipped_on"],
                                name="settlement_supplier_month")]

    def __str__(self) -> str:
        return f"{self.supplier} {self.order_number} {self.net_amount}"
