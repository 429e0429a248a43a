"""Languages: Vietnamese by default, English on request, from one translation catalogue.

The catalogue is `geoservice/translations/<lang>/LC_MESSAGES/messages.po` (gettext, read by
Flask-Babel). Message ids are English; `vi/messages.po` translates every one of them and
`en/messages.po` is the identity catalogue kept for completeness checks. The `.po` files are
compiled to `.mo` next to the instance folder when the app starts (a few milliseconds, and
only when a `.po` changed), so nothing generated is committed.

The language of a request is, in order: `?lang=vi|en`, the `lang` cookie the map page sets,
then Vietnamese. Layer titles and legends come from the layer files' own `vi`/`en` texts.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel

LOGGER = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
SOURCE = Path(__file__).parent / "translations"


def request_language() -> str:
    """Return the language of the current request: ?lang=, then the cookie, then 'vi'."""
    for value in (request.args.get("lang"), request.cookies.get("lang")):
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


def compile_catalogue(target: Path) -> Path:
    """Compile every messages.po under SOURCE into `target` (only the changed ones)."""
    for po_path in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(SOURCE).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        # A partial file of this writer's own: the workers of a fresh start compile at once.
        handle, name = tempfile.mkstemp(dir=mo_path.parent, prefix="messages.",
                                        suffix=".mo.partial")
        with os.fdopen(handle, "wb") as mo_file:
            write_mo(mo_file, catalog)
        os.chmod(name, 0o644)  # as a plainly written file would be (mkstemp makes it 0600)
        os.replace(name, mo_path)  # atomic: another process never reads half a file
    return target


def init_app(app: Flask) -> None:
    """Compile the catalogue and set Flask-Babel up with our language choice."""
    target = Path(app.instance_path) / "translations"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only instance folder: compile into a private temporary folder
        target = Path(tempfile.mkdtemp(prefix="geoservice-translations-"))
    compile_catalogue(target)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    Babel(app, locale_selector=request_language)
