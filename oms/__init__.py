"""The omnichannel OMS project package: settings, URLs, the Celery app and the shared apps."""

from oms.celery import app as celery_app

__all__ = ["celery_app"]
