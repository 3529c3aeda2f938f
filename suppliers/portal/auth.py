"""The supplier portal's sign-in pages: Django's own auth views with the portal's templates, so
a supplier's staff never see the admin. Password reset mails go out in the language the person
chose on the page (the active language), in German or English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import get_language

from suppliers.portal.access import supplier_required

TEMPLATES = "suppliers/portal/auth/"


class PortalLoginView(auth_views.LoginView):
    template_name = TEMPLATES + "login.html"
    redirect_authenticated_user = False

    def get_default_redirect_url(self) -> str:
        return str(reverse_lazy("supplier_portal:home"))


class PortalLogoutView(auth_views.LogoutView):
    # Django's LogoutView accepts POST only (since 5.0): a link cannot log anyone out.
    next_page = reverse_lazy("supplier_portal:login")


# The reset e-mail is written per language (as notifications are, one template each), in the
# language of the page the person asked from.
MAIL_LANGUAGES = ("de", "en")


def mail_language() -> str:
    language = (get_language() or "").split("-")[0]
    return language if language in MAIL_LANGUAGES else "en"


class SupplierPasswordResetForm(PasswordResetForm):
    """Only people of a supplier get a link here: a staff account's password is not reset
    through the supplier portal."""

    def get_users(self, email: str) -> Iterator[Any]:
        return (user for user in super().get_users(email)
                if getattr(user, "supplier_user", None) is not None)


class PortalPasswordResetView(auth_views.PasswordResetView):
    form_class = SupplierPasswordResetForm
    template_name = TEMPLATES + "password_reset_form.html"
    success_url = reverse_lazy("supplier_portal:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        language = mail_language()
        self.email_template_name = f"{TEMPLATES}{language}/password_reset_email.txt"
        self.subject_template_name = f"{TEMPLATES}{language}/password_reset_subject.txt"
        return super().form_valid(form)


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = TEMPLATES + "password_reset_done.html"


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = TEMPLATES + "password_reset_confirm.html"
    success_url = reverse_lazy("supplier_portal:password_reset_complete")


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = TEMPLATES + "password_reset_complete.html"


@supplier_required
def home(request: HttpRequest) -> HttpResponse:
    """/supplier/: what needs doing first is acknowledging new orders."""
    return redirect("supplier_portal:orders_new")
