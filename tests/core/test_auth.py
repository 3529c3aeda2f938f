"""Bearer tokens of API clients (API.md Conventions): 401s, revocation, and tokens that exist in
clear only in the client's hands."""

from __future__ import annotations

import hashlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from oms.core.clients import api_client_rotate_token, api_client_set_active
from oms.core.models import ApiClient
from tests.conftest import error_codes
from tests.factories import ApiClientFactory, StoreFactory

pytestmark = pytest.mark.django_db

LOCATIONS = "/api/v1/locations"


def get_with(authorization: str | None) -> Any:
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return Client(**extra).get(LOCATIONS)


def create_client(*args: str) -> str:
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue()


def rows_containing(text: str) -> list[str]:
    """Every table of the database whose rows contain `text` anywhere."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            name = connection.ops.quote_name(table)  # a name from the catalog, quoted
            cursor.execute(f"SELECT 1 FROM {name} AS r "
                           f"WHERE strpos(row_to_json(r)::text, %s) > 0 LIMIT 1", [text])
            if cursor.fetchone():
                found.append(table)
    return found


def test_a_request_without_a_token_is_a_401_with_a_challenge() -> None:
    # when a request comes without an Authorization header
    response = get_with(None)

    # then it is a 401 in the error format that tells how to authenticate
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "client_error"
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [("not_authenticated", None)]
    assert body["errors"][0]["detail"]
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("authorization", [
    "Bearer oms_not-a-real-token",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "oms_token-without-a-scheme",
])
def test_a_bad_token_is_a_401(authorization: str) -> None:
    # given a real client exists
    ApiClientFactory()

    # when a request carries a wrong or malformed token
    response = get_with(authorization)

    # then it is a 401 with a challenge
    assert response.status_code == 401
    assert error_codes(response) == ["authentication_failed"]
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_valid_token_is_accepted() -> None:
    # given a client
    client = ApiClientFactory(kind="erp")

    # when it calls with its token
    response = get_with(f"Bearer {client.token}")

    # then it is served
    assert response.status_code == 200


def test_a_deactivated_client_is_refused() -> None:
    # given a client whose token was revoked
    client = ApiClientFactory(kind="erp")
    api_client_set_active(client=client, active=False)

    # when it calls with its old token
    response = get_with(f"Bearer {client.token}")

    # then it is a 401
    assert response.status_code == 401
    assert error_codes(response) == ["authentication_failed"]


def test_a_rotated_token_stops_working_at_once() -> None:
    # given a client whose token was rotated
    client = ApiClientFactory(kind="erp")
    new_token = api_client_rotate_token(client=client)

    # when it calls with the old and with the new token
    old, new = get_with(f"Bearer {client.token}"), get_with(f"Bearer {new_token}")

    # then only the new one works
    assert (old.status_code, new.status_code) == (401, 200)


def test_create_api_client_prints_a_working_token_on_its_last_line() -> None:
    # when an operator creates a client with the management command
    output = create_client("--name", "kassel-wms", "--kind", "wms")

    # then the last line of the output is a token that authenticates as that client
    token = output.strip().splitlines()[-1]
    assert token.startswith("oms_")
    response = get_with(f"Bearer {token}")
    assert response.status_code == 200
    client = ApiClient.objects.get(name="kassel-wms")
    assert (client.kind, client.is_active) == ("wms", True)


def test_create_api_client_confines_a_client_to_a_store() -> None:
    # given a store
    store = StoreFactory(code="ST-BER")

    # when a POS client is created for it
    create_client("--name", "pos-berlin", "--kind", "pos", "--channel", "store",
                  "--location", store.code)

    # then it is confined to that store
    client = ApiClient.objects.get(name="pos-berlin")
    assert (client.channel, client.location_code, client.scope_code) == ("store", "ST-BER",
                                                                         "ST-BER")


@pytest.mark.parametrize(("args", "message"), [
    (["--name", "shop", "--kind", "webshop"], "channel"),
    (["--name", "pos", "--kind", "pos", "--channel", "store", "--location", "NOWHERE"],
     "NOWHERE"),
])
def test_create_api_client_refuses_bad_input_without_creating_anything(
    args: list[str], message: str
) -> None:
    # when the command is called with input the service refuses
    with pytest.raises(CommandError, match=message):
        create_client(*args)

    # then no client exists
    assert not ApiClient.objects.exists()


def test_tokens_are_stored_only_as_hashes() -> None:
    # when a client is created
    token = create_client("--name", "erp", "--kind", "erp").strip().splitlines()[-1]

    # then the database holds its SHA-256 and a short display prefix, never the token
    client = ApiClient.objects.get(name="erp")
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(client.token_prefix)
    assert len(client.token_prefix) <= 12
    assert rows_containing(token) == []
    assert rows_containing(token[12:]) == []
    # (the scan does find what is there)
    assert rows_containing(client.token_hash) == ["core_apiclient"]


@pytest.mark.django_db
def test_a_supplier_client_must_be_confined_to_its_supplier_site() -> None:
    from oms.core.clients import api_client_create
    from oms.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        api_client_create(name="loose-supplier", kind="supplier")
    assert refused.value.errors()[0]["attr"] == "supplier"
