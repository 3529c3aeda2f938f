"""The visits screens of the cockpit, under /cockpit/visits/ (see oms/urls.py)."""

from django.urls import path

from visits.cockpit import views

app_name = "visits_cockpit"

urlpatterns = [
    path("", views.in_store, name="in_store"),
]
