"""Order numbers in a transfer's purpose, however the customer wrote them (pure text work)."""

from __future__ import annotations

import pytest

from finance.matching import MAX_CANDIDATES, candidates_in, order_numbers_in

ORDERS = {"1000123", "1000124", "9000001"}


@pytest.mark.parametrize(("purpose", "found"), [
    ("Best.-Nr. 1000 123", ["1000123"]),
    ("ORDER1000123", ["1000123"]),
    ("RE 1000123 Kim", ["1000123"]),
    ("1000-123", ["1000123"]),
    ("Bestellung 1000.123 vom 01.03.2026", ["1000123"]),
    ("RE 1000123 1000124", ["1000123", "1000124"]),
    ("1000124/1000123, nochmals 1000124", ["1000124", "1000123"]),
    ("Kd 9000001 Rechnung 1000123", ["9000001", "1000123"]),
    ("IBAN DE02120300000000202051 Miete", []),
    ("10001234", []),  # another number that contains an order's: not that order
    ("Rechnung vom 01.03.2026", []),
    ("", []),
])
def test_order_numbers_are_found_however_they_are_written(purpose: str,
                                                          found: list[str]) -> None:
    assert order_numbers_in(purpose, ORDERS) == found


def test_a_number_split_by_the_banks_line_break_is_one_number() -> None:
    assert order_numbers_in("Auftrag 1000\n123 Danke", ORDERS) == ["1000123"]


def test_the_longest_real_number_wins_over_a_part_of_it() -> None:
    # "10001 23" could be read as 10001 or as 1000123: both exist, the longer one is meant
    assert order_numbers_in("Nr 10001 23", {"10001", "1000123"}) == ["1000123"]


def test_a_long_purpose_gives_a_bounded_number_of_candidates() -> None:
    purpose = " ".join(["12345"] * 400)
    assert len(candidates_in(purpose)) <= MAX_CANDIDATES
