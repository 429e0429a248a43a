"""Where the service's own data folders are, in a checkout and in an installed wheel.

The layer catalogue (``layers/*.toml``) and the map page's scripts and styles (``static/``)
live at the top of the repository. A wheel carries them inside the package, as
``geoservice/_data/layers`` and ``geoservice/_data/static`` (setup.py); a checkout, with
or without ``pip install -e .``, has them beside the package.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SHIPPED = PACKAGE / "_data"  # in an installed wheel


def data_folder(name: str) -> Path:
    """Return the folder `name` ('layers', 'static'): the wheel's copy, else the checkout's."""
    shipped = SHIPPED / name
    return shipped if shipped.is_dir() else PACKAGE.parent / name


LAYERS_FOLDER = data_folder("layers")
STATIC_FOLDER = data_folder("static")
