"""Configuration: defaults -> instance/config.py -> GEOSERVICE_* environment -> create_app dict."""

from __future__ import annotations

import re

import pytest

from geoservice import config as config_mod
from geoservice import create_app
from geoservice.errors import ConfigError
from geoservice.services import of as services_of
from tests.conftest import REPO_ROOT


def test_every_key_is_documented():
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", (REPO_ROOT / "docs" / "configuration.md")
                                .read_text(encoding="utf-8"), flags=re.M))
    assert documented == set(config_mod.DEFAULTS)


def test_defaults(tmp_path):
    settings = config_mod.load(tmp_path)
    assert settings["MAX_ITEMS_LIMIT"] == 1000
    assert settings["DEFAULT_ITEMS_LIMIT"] == 100
    assert (settings["LOG_FORMAT"], settings["REQUEST_LOG"], settings["METRICS_ACCESS"]) == (
        "text", True, "local")
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'geoservice.sqlite'}"


def test_sources_override_in_order(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("MAX_ITEMS_LIMIT = 500\nDEFAULT_ITEMS_LIMIT = 7\n"
                                        "UNRELATED = 1\n")
    settings = config_mod.load(tmp_path)
    assert (settings["MAX_ITEMS_LIMIT"], settings["DEFAULT_ITEMS_LIMIT"]) == (500, 7)
    assert "UNRELATED" not in settings
    monkeypatch.setenv("GEOSERVICE_MAX_ITEMS_LIMIT", "300")
    assert config_mod.load(tmp_path)["MAX_ITEMS_LIMIT"] == 300
    assert config_mod.load(tmp_path, {"MAX_ITEMS_LIMIT": 5})["MAX_ITEMS_LIMIT"] == 5


@pytest.mark.parametrize("value", ["abc", "0", -3, None])
def test_invalid_limits_are_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="MAX_ITEMS_LIMIT"):
        config_mod.load(tmp_path, {"MAX_ITEMS_LIMIT": value})


def test_create_app_applies_the_configuration(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DEFAULT_ITEMS_LIMIT": "25"})
    assert app.instance_path == str(tmp_path.resolve())
    assert app.config["GEOSERVICE_DEFAULT_ITEMS_LIMIT"] == 25
    assert (tmp_path / "geoservice.sqlite").exists()
    services_of(app).store.close()
    with pytest.raises(ConfigError, match="unknown database URL scheme"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "oracle://db"})
