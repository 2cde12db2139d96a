"""Settings: config.toml, $SINERGI_CONFIG and $DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_config_loads_and_holds_no_secrets() -> None:
    settings = load_settings(ROOT / "config.toml", environ={})
    assert settings.app.default_language == "id"
    assert settings.database.url.startswith("sqlite:///")
    text = (ROOT / "config.toml").read_text().lower()
    assert "token =" not in text and "secret =" not in text


def test_database_url_from_the_environment_wins(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///file.db"\n')
    settings = load_settings(config, environ={"DATABASE_URL": "postgresql://u@127.0.0.1/x"})
    assert settings.database.url == "postgresql://u@127.0.0.1/x"


def test_relative_sqlite_path_is_next_to_the_config(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///data/bot.db"\n')
    settings = load_settings(config, environ={})
    assert settings.database.url == f"sqlite:///{tmp_path / 'data' / 'bot.db'}"


def test_config_path_from_the_environment(tmp_path, monkeypatch) -> None:
    config = tmp_path / "other.toml"
    config.write_text('[app]\ndefault_language = "en"\n')
    monkeypatch.setenv("SINERGI_CONFIG", str(config))
    assert load_settings(environ={}).app.default_language == "en"


@pytest.mark.parametrize(
    "content",
    ['[app]\nadmins = ["bukan nomor"]\n', '[app]\ndefault_language = "fr"\n', "not = [toml"],
)
def test_bad_configuration_is_one_clear_error(tmp_path, content) -> None:
    config = tmp_path / "config.toml"
    config.write_text(content)
    with pytest.raises(ConfigError):
        load_settings(config, environ={})


def test_admin_numbers_are_normalised(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[app]\nadmins = ["0811-0000-0001"]\n')
    assert load_settings(config, environ={}).app.admins == ["+6281100000001"]


def test_a_missing_explicit_file_is_an_error(tmp_path) -> None:
    with pytest.raises(ConfigError):
        load_settings(tmp_path / "nope.toml", environ={})
