"""The finance cockpit's screens, under /cockpit/finance/ (see oms/urls.py)."""

from django.urls import path

from finance.cockpit import views

app_name = "finance_cockpit"

urlpatterns = [
    path("", views.open_items, name="open_items"),
    path("open-items/<int:pk>/dispute/", views.item_dispute, name="dispute"),
    path("open-items/<int:pk>/undispute/", views.item_undispute, name="undispute"),
    path("open-items/<int:pk>/write-off/", views.item_write_off, name="write_off"),
    path("bank/", views.bank, name="bank"),
    path("bank/<int:pk>/match/", views.bank_match, name="match"),
    path("dunning/", views.dunning, name="dunning"),
    path("dunning/run/", views.dunning_run, name="dunning_run"),
    path("trial-balance/", views.trial_balance, name="trial_balance"),
    path("export/", views.export, name="export"),
]
