"""The take-back screens, under /cockpit/returns/ (see oms/urls.py)."""

from django.urls import path

from returns.cockpit import views

app_name = "returns_cockpit"

urlpatterns = [
    path("", views.returns_list, name="list"),
    path("take-back/", views.search, name="search"),
    path("take-back/orders/<int:pk>/", views.take_back, name="take_back"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/receive/", views.receive, name="receive"),
]
