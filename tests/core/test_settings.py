"""Settings: every bad value is one clear line naming the setting; the token never leaks."""

from __future__ import annotations

import base64
import logging

import pytest

from core.settings import RedactingFilter, SettingsError, application_id_from_token, load_settings

APP_ID = 123456789012345678
TOKEN = base64.b64encode(str(APP_ID).encode()).decode().rstrip("=") + ".GhIjKl.abcdefghijklmnop"


def test_defaults():
    settings = load_settings({"DISCORD_TOKEN": TOKEN})
    assert settings.application_id == APP_ID
    assert settings.database_url == "sqlite:///data/vigil.db"
    assert settings.log_level == "INFO" and settings.api_base_url is None
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "  "}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "not-a-token"}, "DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": TOKEN, "LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"DISCORD_TOKEN": TOKEN, "DISCORD_API_BASE_URL": "localhost"}, "DISCORD_API_BASE_URL"),
        ({"DISCORD_TOKEN": TOKEN, "SHARD_IDS": "0"}, "SHARD_IDS"),
        ({"DISCORD_TOKEN": TOKEN, "SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS"),
        ({"DISCORD_TOKEN": TOKEN, "REPORT_RATE_LIMIT": "0"}, "REPORT_RATE_LIMIT"),
        ({"DISCORD_TOKEN": TOKEN, "SQLITE_SYNCHRONOUS": "OFF"}, "SQLITE_SYNCHRONOUS"),
    ],
)
def test_bad_settings_name_the_setting(env, setting):
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert caught.value.setting == setting
    message = str(caught.value)
    assert message.startswith(setting) and "\n" not in message
    assert TOKEN not in message


def test_api_base_and_shards():
    settings = load_settings(
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE_URL": "http://127.0.0.1:8080/api/v10/",
            "SHARD_COUNT": "4",
            "SHARD_IDS": "1,3",
        }
    )
    assert settings.api_base_url == "http://127.0.0.1:8080/api/v10"
    assert settings.shard_count == 4 and settings.shard_ids == (1, 3)


def test_application_id_from_token():
    assert application_id_from_token(TOKEN) == APP_ID
    assert application_id_from_token("!!!.a.b") is None


def test_redacting_filter_hides_the_token():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token is %s", (TOKEN,), None)
    RedactingFilter([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage() and "[redacted]" in record.getMessage()
