"""The cockpit's screens, under /cockpit/ (see oms/urls.py)."""

from django.urls import path

from fulfillment.cockpit import views

app_name = "cockpit"

urlpatterns = [
    path("", views.home, name="home"),
    path("to-pick/", views.to_pick, name="to_pick"),
    path("pickups/<int:pk>/pick/", views.pick, name="pick"),
    path("handover/", views.handover_search, name="handover_search"),
    path("pickups/<int:pk>/handover/", views.handover, name="handover"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
