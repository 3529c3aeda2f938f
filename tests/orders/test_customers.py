"""Customers are found by e-mail (any case) or created with their first order."""

from __future__ import annotations

import pytest

from oms.orders.models import Customer
from oms.orders.services import CustomerData, customer_upsert

pytestmark = pytest.mark.django_db


def test_a_new_customer_is_stored_with_the_e_mail_lower_cased():
    # when a customer nobody knows orders for the first time
    customer = customer_upsert(data=CustomerData(email=" Kim@Example.DE ", name="Kim",
                                                 phone="+49 30 1"))
    # then they are stored with the e-mail lower-cased, and the instance is the stored row
    stored = Customer.objects.get()
    assert (stored.pk, stored.email, stored.name, stored.phone) == \
        (customer.pk, "kim@example.de", "Kim", "+49 30 1")
    assert customer.created_at == stored.created_at


def test_a_returning_customer_is_found_and_only_what_they_gave_replaces_what_was_stored():
    # given a customer with a name and a phone number
    first = customer_upsert(data=CustomerData(email="kim@example.de", name="Kim",
                                              phone="+49 30 1"))
    # when they order again with another name and no phone number, in another case
    again = customer_upsert(data=CustomerData(email="KIM@example.de", name="Kim Weber"))
    # then it is the same customer, renamed, and the phone number is kept
    assert again.pk == first.pk
    stored = Customer.objects.get()
    assert (stored.name, stored.phone) == ("Kim Weber", "+49 30 1")
    # and an order that changes nothing writes nothing
    customer_upsert(data=CustomerData(email="kim@example.de", name="Kim Weber"))
    assert Customer.objects.get().updated_at == stored.updated_at
