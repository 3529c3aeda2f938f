"""Supplier users: a Django user (no staff flag, so never the admin) linked to one supplier.
Created by staff (`manage.py create_supplier_user`, or the admin for an existing user)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from oms.core.errors import InvalidInput
from suppliers.models import Supplier, SupplierUser


def supplier_user_create(*, email: str, supplier_code: str, password: str | None = None,
                         name: str = "") -> SupplierUser:
    """The e-mail address is the username (what a supplier's staff remember). Without a
    password the account has an unusable one until the person sets theirs through a reset
    link (`password_reset_path`)."""
    email = email.strip().lower()
    supplier = Supplier.objects.filter(code=supplier_code).first()
    if supplier is None:
        raise InvalidInput([("unknown_supplier", _("No supplier with code %(code)s.")
                             % {"code": supplier_code}, "supplier")])
    if not email or "@" not in email:
        raise InvalidInput([("invalid_email", _("Enter a valid e-mail address."), "email")])
    with transaction.atomic():
        if User.objects.filter(username__iexact=email).exists() or \
                User.objects.filter(email__iexact=email).exists():
            raise InvalidInput([("email_taken", _("A user with this e-mail address exists."),
                                 "email")])
        first, _sep, last = name.strip().partition(" ")
        user = User(username=email, email=email, first_name=first, last_name=last)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        return SupplierUser.objects.create(user=user, supplier=supplier)


def password_reset_path(user: User) -> str:
    """The portal's "choose a new password" page for `user` (valid for
    PASSWORD_RESET_TIMEOUT, and only until the password changes)."""
    return reverse("supplier_portal:password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user)})
