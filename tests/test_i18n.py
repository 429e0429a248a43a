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


def test_processes_starting_together_compile_the_catalogue_without_tripping(tmp_path):
    """gunicorn's workers start at once on a fresh instance folder: each compiles the
    catalogue, and none may fail on a file another one has just renamed into place."""
    import threading

    from geoservice.i18n import compile_catalogue

    expected = sorted(p.relative_to(SOURCE).with_suffix(".mo").as_posix()
                      for p in SOURCE.glob("*/LC_MESSAGES/messages.po"))
    for round_ in range(10):
        target, failures = tmp_path / str(round_), []
        together = threading.Barrier(8)

        def start(target=target, together=together, failures=failures):
            together.wait()
            try:
                compile_catalogue(target)
            except OSError as exc:
                failures.append(exc)

        threads = [threading.Thread(target=start) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        compiled = sorted(p.relative_to(target).as_posix() for p in target.rglob("*")
                          if p.is_file())
        assert compiled == expected  # every catalogue, and no partial file left behind
