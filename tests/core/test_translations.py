"""User-facing text is translated: German for clients that ask for it, English by default."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest

from tests.conftest import error_codes


@pytest.mark.django_db
def test_errors_speak_german_to_clients_that_ask_for_it(api):
    shop = api("webshop")
    response = shop.http.get("/api/v1/availability", {"skus": "NOPE"},
                             HTTP_ACCEPT_LANGUAGE="de")
    assert error_codes(response) == ["unknown_sku"]
    assert response.json()["errors"][0]["detail"] == "Unbekannte SKUs: NOPE."


@pytest.mark.django_db
def test_errors_are_english_by_default(api):
    response = api("webshop").get("/api/v1/availability", {"skus": "NOPE"})
    assert response.json()["errors"][0]["detail"] == "Unknown SKUs: NOPE."


def _po_entries(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every entry of a .po file but its header. An entry with a
    context has the msgid gettext keys it by: context, EOT, msgid."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        parts: dict[str, list[str]] = {}
        current = None
        for line in block.splitlines():
            if line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
                current, _sep, rest = line.partition(" ")
                parts[current] = [ast.literal_eval(rest)]
            elif line.startswith('"') and current:
                parts[current].append(ast.literal_eval(line))
        if "msgid" in parts and "".join(parts["msgid"]):
            msgstr = "".join(parts.get("msgstr", parts.get("msgstr[0]", [""])))
            msgid = "".join(parts["msgid"])
            if "msgctxt" in parts:
                msgid = "".join(parts["msgctxt"]) + "\x04" + msgid
            entries.append((msgid, msgstr, "#, fuzzy" in block))
    return entries


PO = Path(__file__).resolve().parents[2] / "oms" / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_german_translation():
    untranslated = [msgid for msgid, msgstr, fuzzy in _po_entries(PO) if not msgstr or fuzzy]
    assert untranslated == []


def test_the_compiled_catalogue_matches_its_source():
    # The .mo is what Django reads; a .po edited without compilemessages changes nothing.
    with PO.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [msgid for msgid, msgstr, _fuzzy in _po_entries(PO)
             if "\x00" not in msgid and catalogue.gettext(msgid) != msgstr]
    assert stale == []
