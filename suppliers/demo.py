"""Demo logins for the two back-office front ends added last: the supplier portal (a supplier
"Lieferant Nord" owning the demo's supplier site SUP-FL, and one of its people) and the finance
cockpit (a finance clerk). Passwords are fresh on every run and written to var/demo.env."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model

from finance.cockpit.access import finance_group_ensure
from inventory.models import Location
from suppliers.models import Supplier, SupplierSite, SupplierUser

SUPPLIER_CODE = "NORD"
SUPPLIER_SITE = "SUP-FL"
SUPPLIER_LOGIN = "lieferant@example.de"
FINANCE_LOGIN = "finanz"


def seed_supplier() -> dict[str, str]:
    """The demo supplier and its portal user; {} when the demo has no supplier site."""
    site = Location.objects.filter(code=SUPPLIER_SITE).first()
    if site is None:
        return {}
    supplier, _created = Supplier.objects.get_or_create(
        code=SUPPLIER_CODE, defaults={"name": site.name, "contact_email": SUPPLIER_LOGIN})
    SupplierSite.objects.get_or_create(location=site, defaults={"supplier": supplier})
    user, _created = get_user_model().objects.get_or_create(
        username=SUPPLIER_LOGIN, defaults={"email": SUPPLIER_LOGIN, "first_name": "Nora"})
    password = secrets.token_urlsafe(9)
    user.set_password(password)
    user.save()
    SupplierUser.objects.get_or_create(user=user, defaults={"supplier": supplier})
    return {"DEMO_SUPPLIER_LOGIN": SUPPLIER_LOGIN, "DEMO_SUPPLIER_PASSWORD": password}


def seed_finance_clerk() -> dict[str, str]:
    user, _created = get_user_model().objects.get_or_create(
        username=FINANCE_LOGIN, defaults={"is_staff": True, "first_name": "Fiona"})
    password = secrets.token_urlsafe(9)
    user.set_password(password)
    user.is_staff = True
    user.save()
    user.groups.add(finance_group_ensure())
    return {"DEMO_FINANCE_LOGIN": FINANCE_LOGIN, "DEMO_FINANCE_PASSWORD": password}
