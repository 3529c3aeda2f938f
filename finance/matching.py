"""Finding order numbers in a bank transfer's purpose (Verwendungszweck): pure text work.

Customers write the order number as they like: "Best.-Nr. 1000 123", "ORDER1000123",
"RE 1000123 Kim", "1000-123", the number split by their banking app's line breaks. Order
numbers are digits (a PostgreSQL sequence, `oms.orders.sql`), so every run of digits is a
candidate, and so is every chain of runs separated only by spaces, dots, dashes or slashes
("1000 123" → 1000123). Letters glued to the number ("ORDER1000123") do not matter. Which
candidates are real orders the caller asks the database; of two real ones where one is a part of
the other's chain, the longer wins."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = re.compile(r"\d+")
# What may separate the parts of one number: a space, a dot, a dash, a slash (at most three).
_JOINER = re.compile(r"[\s./-]{1,3}")
MIN_LENGTH = 5  # shorter runs are days, months, house numbers
MAX_LENGTH = 20  # Order.number
MAX_CANDIDATES = 200  # a purpose is at most 1,000 characters; this bounds the lookup


@dataclass(frozen=True)
class Candidate:
    number: str
    first: int  # index of its first digit run in the purpose
    last: int  # index of its last digit run

    def inside(self, other: Candidate) -> bool:
        return other is not self and other.first <= self.first and self.last <= other.last \
            and (other.first, other.last) != (self.first, self.last)


def candidates_in(purpose: str) -> list[Candidate]:
    """Every run of digits, and every chain of runs joined by spaces, dots, dashes or slashes,
    that could be an order number, in the order they appear."""
    runs = list(_DIGITS.finditer(purpose))
    found: list[Candidate] = []
    seen: set[tuple[int, int]] = set()
    for first in range(len(runs)):
        number = ""
        for last in range(first, len(runs)):
            if last > first and not _JOINER.fullmatch(
                    purpose[runs[last - 1].end():runs[last].start()]):
                break
            number += runs[last].group()
            if len(number) > MAX_LENGTH:
                break
            if len(number) >= MIN_LENGTH and (first, last) not in seen:
                seen.add((first, last))
                found.append(Candidate(number, first, last))
                if len(found) >= MAX_CANDIDATES:
                    return found
    return found


def order_numbers_in(purpose: str, existing: set[str]) -> list[str]:
    """The order numbers named in `purpose`, given which candidates are `existing` orders: in
    the order they appear, each once, a number that is only part of a longer one dropped."""
    real = [c for c in candidates_in(purpose) if c.number in existing]
    kept = [c for c in real if not any(c.inside(other) for other in real)]
    kept.sort(key=lambda c: (c.first, c.last))
    return list(dict.fromkeys(c.number for c in kept))
