"""The supplier portal's auth pages (included by suppliers/portal/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from suppliers.portal import auth

urlpatterns: list[URLPattern] = [
    path("", auth.home, name="home"),
    path("login/", auth.PortalLoginView.as_view(), name="login"),
    path("logout/", auth.PortalLogoutView.as_view(), name="logout"),
    path("password-reset/", auth.PortalPasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth.PortalPasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", auth.PortalPasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/done/", auth.PortalPasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
]
