"""What the wheel holds; the project's metadata and dependencies are in pyproject.toml.

The `geoservice` package with its templates, translations and migrations, plus the two
folders that stay at the top of the repository: the layer catalogue (``layers/``) and the
map page's scripts and styles (``static/``). They travel inside the package as
``geoservice/_data/layers`` and ``geoservice/_data/static``, where `geoservice.resources`
finds them in an installed wheel; ``pip install -e .`` maps the same names onto the
checkout's folders, and a checkout reads them where they are.
"""

from setuptools import find_namespace_packages, setup

CODE_DATA = ["store/migrations/*.py", "store/migrations/*.mako",
             "store/migrations/versions/*.py", "translations/*/LC_MESSAGES/*.po",
             "templates/**/*"]
DATA_FOLDERS = {"geoservice._data.layers": "layers", "geoservice._data.static": "static"}


def data_packages() -> list[str]:
    """Each data folder and its sub-folders, as the packages setuptools copies them by."""
    return [f"{package}{suffix}" for package, folder in DATA_FOLDERS.items()
            for suffix in ("", *(f".{sub}" for sub in find_namespace_packages(where=folder)))]


setup(
    packages=[*find_namespace_packages(include=["geoservice*"]), *data_packages()],
    package_dir=DATA_FOLDERS,
    package_data={"geoservice": CODE_DATA, **{package: ["*"] for package in data_packages()}},
)
