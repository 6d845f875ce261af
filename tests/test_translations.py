"""Latvian is the main language: every message the code uses must have a Latvian translation."""

import pytest

from grantflow.core import catalogues


@pytest.mark.parametrize("area", catalogues.areas())
def test_every_message_has_a_latvian_translation(area):
    missing = catalogues.untranslated(area, "lv")
    assert not missing, (
        f"{len(missing)} message(s) of {area!r} have no Latvian translation; run "
        f"`flask --app grantflow translations update`, fill them in, then `make translations`: {missing[:10]}"
    )


def test_interface_is_latvian_by_default_and_english_on_request(client):
    page = client.get("/").get_data(as_text=True)
    assert 'lang="lv"' in page and "Ienākt" in page
    client.post("/language", data={"language": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page
