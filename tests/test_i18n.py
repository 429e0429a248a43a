"""The translation catalogue: compiled at start-up, complete, and chosen per request."""

from __future__ import annotations

from babel.messages.pofile import read_po

from geoservice.i18n import SOURCE


def _catalogue(lang: str):
    with (SOURCE / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=lang)


def test_every_message_is_translated_into_vietnamese_and_listed_in_english():
    vi, en = _catalogue("vi"), _catalogue("en")
    vi_ids = {m.id for m in vi if m.id}
    assert vi_ids == {m.id for m in en if m.id}
    missing = sorted(str(m.id) for m in vi if m.id and not m.string)
    assert not missing, f"untranslated into Vietnamese: {missing}"


def test_language_is_chosen_by_query_then_cookie_then_vietnamese(empty_app):
    from flask_babel import gettext

    with empty_app.test_request_context("/"):
        assert gettext("Synthetic demo data") == "Dữ liệu minh họa tổng hợp"
    with empty_app.test_request_context("/?lang=en"):
        assert gettext("Synthetic demo data") == "Synthetic demo data"
    with empty_app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert gettext("Synthetic demo data") == "Synthetic demo data"
    with empty_app.test_request_context("/?lang=xx", headers={"Cookie": "lang=en"}):
        assert gettext("Synthetic demo data") == "Synthetic demo data"
