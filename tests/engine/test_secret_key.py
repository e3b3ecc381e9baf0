"""The cookie-signing key: required in production, made once and kept in the embedded mode."""

from __future__ import annotations

import stat

import pytest

from engine.config import ConfigurationError, Settings, web_secret_key


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path):
    settings = Settings.from_env(
        {
            "APPROUTE_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
            "APPROUTE_REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    with pytest.raises(ConfigurationError, match="APPROUTE_SECRET_KEY must be set"):
        web_secret_key(settings)


def test_a_given_key_is_used_as_it_is(tmp_path):
    settings = Settings.from_env({"APPROUTE_DATABASE_URL": "sqlite://", "APPROUTE_SECRET_KEY": "k" * 40})
    assert web_secret_key(settings) == "k" * 40


def test_the_embedded_mode_makes_a_private_key_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"APPROUTE_DATABASE_URL": "sqlite://"})

    first = web_secret_key(settings)
    again = web_secret_key(settings)

    assert first == again and len(first) >= 48
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first != "dev-only-insecure-secret"


def test_the_serve_command_explains_a_missing_key(tmp_path, monkeypatch, capsys):
    from api.cli import main

    monkeypatch.setenv("APPROUTE_DATABASE_URL", f"sqlite:///{tmp_path}/a.db")
    monkeypatch.setenv("APPROUTE_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("APPROUTE_SECRET_KEY", raising=False)
    assert main(["serve", "--port", "0"]) == 1
    assert "APPROUTE_SECRET_KEY must be set" in capsys.readouterr().err
