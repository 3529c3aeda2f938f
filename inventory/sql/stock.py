"""The availability and sourcing reads: plain rows, because building model instances for a
few hundred locations and their stock cost more than the query on every request
(bench/availability). One function per statement."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django.db import connection

# The columns of a `inventory.sites.Site`, in its field order, from `inventory_location l`.
SITE_COLUMNS = ("l.id, l.code, l.kind, l.ships, l.ship_from_store, l.click_and_collect, l.lat, "
                "l.lon, l.priority")
SITE_WIDTH = 9

# Every active location (or only the one named for a pickup) with its stock of the requested
# SKUs, in one round trip: sourcing runs for every cart hold and every order.
_SITES_WITH_STOCK = """
SELECT {site_columns}, s.id, s.sku, s.on_hand, s.reserved, s.safety_stock
FROM inventory_location l
LEFT JOIN inventory_stocklevel s ON s.location_id = l.id AND s.sku IN ({skus})
WHERE l.is_active{only_code}
"""


def active_sites_select() -> list[tuple[Any, ...]]:
    """Every active location's site columns."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {SITE_COLUMNS} FROM inventory_location l WHERE l.is_active")
        return cursor.fetchall()


def sites_with_stock_select(skus: Sequence[str], code: str | None) -> list[tuple[Any, ...]]:
    """Site columns, then the stock level's id, sku, on_hand, reserved and safety_stock (all
    None for a location without any of the SKUs)."""
    sql = _SITES_WITH_STOCK.format(
        site_columns=SITE_COLUMNS,
        skus=", ".join(["%s"] * len(skus)) or "NULL",  # no SKUs: the locations, no stock
        only_code="" if code is None else " AND l.code = %s",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*skus] if code is None else [*skus, code])
        return cursor.fetchall()


def stock_rows_select(skus: Sequence[str], location_ids: Collection[int] | None,
                      ) -> list[tuple[str, int, int, int, int]]:
    """(sku, location id, on_hand, reserved, safety_stock) of the SKUs, at the locations if
    given."""
    sql = ("SELECT sku, location_id, on_hand, reserved, safety_stock FROM inventory_stocklevel "
           f"WHERE sku IN ({', '.join(['%s'] * len(skus))})")
    params: list[Any] = list(skus)
    if location_ids is not None:
        if not location_ids:
            return []
        sql += f" AND location_id IN ({', '.join(['%s'] * len(location_ids))})"
        params += location_ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
