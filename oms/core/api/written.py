"""Answering from the rows a service just wrote, without reading them back."""

from __future__ import annotations

from typing import Any


class Written:
    """A model instance with the related rows a service wrote beside it given as lists: DRF
    serializes a list as it would a related manager's rows, so the answer needs no read."""

    def __init__(self, instance: Any, **related: list[Any]) -> None:
        self.instance = instance
        self.__dict__.update(related)

    def __getattr__(self, name: str) -> Any:  # everything else is the instance's own
        return getattr(self.instance, name)
