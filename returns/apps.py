from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    label = "returns"
    verbose_name = _("Returns")

    def ready(self) -> None:
        # Event handlers and the return label's attempt kind register themselves on import;
        # importing here makes both registries complete in every process (web, worker, beat).
        from returns import handlers, labels, sweep_tasks  # noqa: F401
