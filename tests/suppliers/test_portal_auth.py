"""The supplier portal's accounts: log in and out at /supplier/, a password reset by e-mail in
German or English, staff who are no supplier's people refused, and the command staff create
supplier users with."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from suppliers.models import SupplierUser
from tests.factories import StoreStaffFactory, SuperuserFactory
from tests.suppliers.factories import SUPPLIER_PASSWORD, SupplierFactory, SupplierUserFactory

pytestmark = pytest.mark.django_db


def test_a_supplier_user_logs_in_lands_on_new_orders_and_logs_out(supplier_user: Any) -> None:
    # given Nordwerk's Nora, not logged in
    browser = Client()

    # when she opens the portal, she is sent to its own login (not the admin's)
    first = browser.get("/supplier/")
    assert first.status_code == 302
    assert first["Location"].startswith("/supplier/login/")
    page = browser.get(first["Location"])
    assert page.status_code == 200
    assert b'id="login-form"' in page.content

    # when she logs in
    answer = browser.post("/supplier/login/?next=/supplier/",
                          {"username": "nora", "password": SUPPLIER_PASSWORD,
                           "next": "/supplier/"}, follow=True)

    # then she sees the new orders, under her company's name
    assert answer.redirect_chain[-1][0] == "/supplier/orders/new/"
    assert b"Nordwerk GmbH" in answer.content
    assert b"New orders" in answer.content

    # when she logs out (a POST)
    assert browser.get("/supplier/logout/").status_code == 405
    out = browser.post("/supplier/logout/")

    # then she is back at the login, and the portal asks her to log in again
    assert out["Location"] == "/supplier/login/"
    assert browser.get("/supplier/orders/new/").status_code == 302


def test_a_wrong_password_is_refused_on_the_form(supplier_user: Any) -> None:
    answer = Client().post("/supplier/login/", {"username": "nora", "password": "nope"})
    assert answer.status_code == 200
    assert b'id="login-error"' in answer.content


@pytest.mark.parametrize("make", [StoreStaffFactory, SuperuserFactory])
def test_staff_who_are_no_suppliers_people_get_403(make: Any, supplier: Any) -> None:
    # given a store staff member and a superuser, logged in
    browser = Client()
    browser.force_login(make())

    # then every portal page refuses them
    for path in ["/supplier/", "/supplier/orders/new/", "/supplier/orders/to-ship/",
                 "/supplier/orders/shipped/"]:
        assert browser.get(path).status_code == 403, path


def test_an_inactive_suppliers_people_get_403(supplier_user: Any) -> None:
    supplier_user.supplier.is_active = False
    supplier_user.supplier.save()
    browser = Client()
    browser.force_login(supplier_user.user)
    assert browser.get("/supplier/orders/new/").status_code == 403


@pytest.mark.parametrize(("language", "subject", "greeting"), [
    ("en", "Supplier portal: choose a new password", "Hello nora,"),
    ("de", "Lieferantenportal: neues Passwort wählen", "Hallo nora,"),
])
def test_a_password_reset_sends_a_link_in_the_page_language_that_sets_a_new_password(
        supplier_user: Any, language: str, subject: str, greeting: str) -> None:
    # given Nora forgot her password and reads the portal in `language`
    browser = Client()
    browser.cookies["django_language"] = language

    # when she asks for a reset link
    sent = browser.post("/supplier/password-reset/", {"email": supplier_user.user.email})

    # then one e-mail goes to her, in her language, with a link into the portal
    assert sent["Location"] == "/supplier/password-reset/sent/"
    [message] = mail.outbox
    assert message.to == [supplier_user.user.email]
    assert message.subject == subject
    assert message.body.startswith(greeting)
    link = re.search(r"https?://[^/]+(/supplier/password-reset/\S+)", message.body).group(1)

    # when she follows it and chooses a new password
    form = browser.get(link, follow=True)
    assert b'id="set-password-form"' in form.content
    saved = browser.post(form.redirect_chain[-1][0],
                         {"new_password1": "Fjord-Kiste-42", "new_password2": "Fjord-Kiste-42"})
    assert saved["Location"] == "/supplier/password-reset/done/"

    # then she logs in with it
    assert Client().login(username="nora", password="Fjord-Kiste-42")


def test_no_reset_link_for_an_unknown_address_or_a_staff_account(db: Any) -> None:
    StoreStaffFactory(email="mia@example.de")
    for email in ["nobody@example.de", "mia@example.de"]:
        answer = Client().post("/supplier/password-reset/", {"email": email})
        # the same answer either way: the page does not tell who has an account
        assert answer["Location"] == "/supplier/password-reset/sent/"
    assert mail.outbox == []


def test_the_command_creates_a_supplier_user_with_a_password(supplier: Any) -> None:
    out = StringIO()
    call_command("create_supplier_user", "Lena@Nordwerk.example.de", "--supplier", "NORD",
                 "--password", "Holz-Kiste-17", stdout=out)

    link = SupplierUser.objects.get(user__email="lena@nordwerk.example.de")
    assert link.supplier == supplier
    assert not link.user.is_staff
    assert Client().login(username="lena@nordwerk.example.de", password="Holz-Kiste-17")
    assert "Holz-Kiste-17" not in out.getvalue()


def test_the_command_prints_a_reset_link_when_no_password_is_given(supplier: Any) -> None:
    out = StringIO()
    call_command("create_supplier_user", "lena@nordwerk.example.de", "--supplier", "NORD",
                 stdout=out)

    user = User.objects.get(email="lena@nordwerk.example.de")
    assert not user.has_usable_password()
    link = re.search(r"(/supplier/password-reset/\S+/\S+/)", out.getvalue()).group(1)
    page = Client().get(link, follow=True)
    assert b'id="set-password-form"' in page.content


def test_the_command_refuses_an_unknown_supplier_and_a_taken_address(supplier: Any) -> None:
    other = SupplierFactory(code="SUED")
    SupplierUserFactory(supplier=other, user__email="taken@example.de",
                        user__username="taken@example.de")
    with pytest.raises(CommandError):
        call_command("create_supplier_user", "x@example.de", "--supplier", "NOPE",
                     stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_supplier_user", "taken@example.de", "--supplier", "NORD",
                     stdout=StringIO())
    assert not User.objects.filter(email="x@example.de").exists()
    assert SupplierUser.objects.get(user__email="taken@example.de").supplier == other
