"""Fulfilment orders: the part of an order one location serves."""

from __future__ import annotations

from django.db import models
from django.db.models import F as Field
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from fulfillment.states import NOT_YET_SHIPPED, FulfillmentKind, FulfillmentStatus
from inventory.models import Location
from oms.orders.models import Order, OrderLine

F = FulfillmentStatus


class FulfillmentOrder(ConcurrentTransitionMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fulfillments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT,
                                 related_name="fulfillments")
    kind = models.CharField(_("kind"), max_length=10, choices=FulfillmentKind.choices)
    status = FSMField(_("status"), default=F.PENDING, choices=FulfillmentStatus.choices,
                      protected=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("fulfilment order")
        verbose_name_plural = _("fulfilment orders")
        indexes = [models.Index(fields=["location", "status", "created_at"],
                                name="fulfillment_worklist")]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.location.code} ({self.status})"

    @transition(field=status, source=NOT_YET_SHIPPED, target=F.CANCELLED)
    def cancel(self) -> None: ...


class FulfillmentLine(models.Model):
    fulfillment = models.ForeignKey(FulfillmentOrder, on_delete=models.CASCADE,
                                    related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    shipped = models.PositiveIntegerField(_("shipped"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)

    class Meta:
        verbose_name = _("fulfilment line")
        verbose_name_plural = _("fulfilment lines")
        constraints = [
            models.UniqueConstraint(fields=["fulfillment", "order_line"],
                                    name="fulfillment_line_once"),
            models.CheckConstraint(
                condition=Q(quantity__gte=Field("shipped") + Field("cancelled")),
                name="fulfillment_line_units_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line.product_id}"

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.shipped - self.cancelled
