"""Fixtures for the catalog feed tests (`pim` comes from tests/conftest.py)."""
