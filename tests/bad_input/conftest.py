"""The API-wide bad-input tests use the order tests' small network (`shop` and `pim` come from
tests/conftest.py)."""

from tests.orders.conftest import network  # noqa: F401  (the fixture, shared)
