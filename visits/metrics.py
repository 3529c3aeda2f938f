"""The pickup-offer gauges on /metrics (registered with oms.core.operations in
`VisitsConfig.ready`): per store, every offer made and what became of it, and the parcels not
sent because the customer took the goods at the store. All time, read at scrape time in one
grouped query; a dashboard takes rates over a period from them."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from visits.figures import OUTCOMES, offer_figures_per_store


class PickupOfferCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        offers = GaugeMetricFamily(
            "oms_pickup_offers",
            "Pickup offers made on store visits, by store and outcome (made counts every "
            "offer; accepted includes those withdrawn later)",
            labels=["store", "outcome"])
        avoided = GaugeMetricFamily(
            "oms_pickup_shipments_avoided",
            "Parcels not sent because the customer took all the goods at the store",
            labels=["store"])
        for store, figures in offer_figures_per_store().items():
            for outcome in OUTCOMES:
                offers.add_metric([store, outcome], getattr(figures, outcome))
            avoided.add_metric([store], figures.shipments_avoided)
        yield offers
        yield avoided


# One object for the life of the process: registering it twice registers it once.
PICKUP_OFFER_COLLECTOR = PickupOfferCollector()
