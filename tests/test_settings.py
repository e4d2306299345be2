"""Settings: defaults < TOML file < environment; production refuses unsafe values."""

from __future__ import annotations

import pytest

from lti_tool.exceptions import ConfigError
from lti_tool.settings import load_settings


def test_environment_overrides_toml_which_overrides_defaults(tmp_path, monkeypatch):
    """A value in MICROREVIEW_CONFIG's file beats the default; the environment beats both."""
    config = tmp_path / "site.toml"
    config.write_text('base_url = "https://from-toml.example"\nhttp_timeout = 3.5\n')
    monkeypatch.setenv("MICROREVIEW_CONFIG", str(config))
    monkeypatch.setenv("MICROREVIEW_HTTP_TIMEOUT", "7")
    settings = load_settings()
    assert settings.base_url == "https://from-toml.example"
    assert settings.http_timeout == 7.0
    assert settings.launch_token_ttl == 3600


def test_production_refuses_default_secret(monkeypatch):
    """Production with the default secret key fails with an instruction."""
    monkeypatch.setenv("MICROREVIEW_ENV", "production")
    monkeypatch.setenv("MICROREVIEW_BASE_URL", "https://tool.example")
    with pytest.raises(ConfigError, match="MICROREVIEW_SECRET_KEY"):
        load_settings()


def test_production_refuses_plain_http_base_url(monkeypatch):
    """Production without an https BASE_URL fails saying why."""
    monkeypatch.setenv("MICROREVIEW_ENV", "production")
    monkeypatch.setenv("MICROREVIEW_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("MICROREVIEW_BASE_URL", "http://tool.example")
    with pytest.raises(ConfigError, match="https"):
        load_settings()


def test_production_never_serves_the_demo_lms(monkeypatch):
    """In production the demo platform is off even if asked for."""
    monkeypatch.setenv("MICROREVIEW_ENV", "production")
    monkeypatch.setenv("MICROREVIEW_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("MICROREVIEW_BASE_URL", "https://tool.example")
    monkeypatch.setenv("MICROREVIEW_DEMO_PLATFORM", "true")
    assert load_settings().demo_enabled is False


def test_missing_config_file_and_bad_values_are_clear(tmp_path, monkeypatch):
    """A missing config file or a malformed number is named in the error."""
    monkeypatch.setenv("MICROREVIEW_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()
    monkeypatch.delenv("MICROREVIEW_CONFIG")
    monkeypatch.setenv("MICROREVIEW_HTTP_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="http_timeout"):
        load_settings()
