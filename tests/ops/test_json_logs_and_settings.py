"""LOG_FORMAT=json lines parse, carry guild and case, and keep tokens redacted; the operators'
settings are typed and fail with one line naming the setting."""

from __future__ import annotations

import io
import json
import logging

import pytest

import bot
from core.settings import RedactingFilter, SettingsError, load_settings
from tests.core.test_settings import TOKEN
from vigil_ops.json_logs import JsonFormatter


def _logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter([TOKEN]))
    log = logging.getLogger("vigil.test_json_logs")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log


def test_records_with_extras_parse_as_json():
    stream = io.StringIO()
    log = _logger(stream)
    log.info("alert posted for case %s", 12, extra={"guild_id": 1 << 60, "case_id": 12})
    log.warning("no context here")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "alert posted for case 12"
    assert first["level"] == "INFO" and first["logger"] == "vigil.test_json_logs"
    assert first["guild_id"] == str(1 << 60) and first["case_id"] == "12"
    assert first["time"].endswith("+00:00")
    assert "guild_id" not in second and "case_id" not in second


def test_tokens_are_redacted_in_messages_and_tracebacks():
    stream = io.StringIO()
    log = _logger(stream)
    log.error("login with %s failed", TOKEN)
    log.info("POST /interactions/123/aW50ZXJhY3Rpb246c2VjcmV0/callback")
    try:
        raise RuntimeError(f"token {TOKEN} rejected")
    except RuntimeError:
        log.exception("crash", extra={"guild_id": 5})
    text = stream.getvalue()
    assert TOKEN not in text and "aW50ZXJhY3Rpb246c2VjcmV0" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3  # a traceback stays inside its one JSON line
    assert "[redacted]" in lines[0]["message"] and "[redacted]" in lines[2]["exception"]


def test_only_known_extras_are_copied():
    stream = io.StringIO()
    _logger(stream).info("x", extra={"details": "what a reporter wrote", "guild_id": "7"})
    entry = json.loads(stream.getvalue())
    assert "details" not in entry and "guild_id" not in entry  # not an int: dropped


def test_configure_logging_chooses_the_format(capsys: pytest.CaptureFixture[str]):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    discord_level = logging.getLogger("discord").level
    try:
        bot.configure_logging(load_settings({"DISCORD_TOKEN": TOKEN, "LOG_FORMAT": "json"}))
        logging.getLogger("vigil").warning("token is %s", TOKEN, extra={"case_id": 3})
        line = capsys.readouterr().err.strip().splitlines()[-1]
        entry = json.loads(line)
        assert entry["case_id"] == "3" and TOKEN not in line
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.getLogger("discord").setLevel(discord_level)


def test_operator_settings_defaults_and_values():
    default = load_settings({"DISCORD_TOKEN": TOKEN})
    assert default.metrics_port is None and default.metrics_host == "127.0.0.1"
    assert default.health_outbox_max_age_seconds == 300 and default.log_format == "text"
    custom = load_settings(
        {
            "DISCORD_TOKEN": TOKEN,
            "METRICS_PORT": "9464",
            "METRICS_HOST": "0.0.0.0",
            "HEALTH_OUTBOX_MAX_AGE_SECONDS": "120",
            "LOG_FORMAT": "JSON",
        }
    )
    assert custom.metrics_port == 9464 and custom.metrics_host == "0.0.0.0"
    assert custom.health_outbox_max_age_seconds == 120 and custom.log_format == "json"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("METRICS_PORT", "0"),
        ("METRICS_PORT", "http"),
        ("METRICS_PORT", "70000"),
        ("METRICS_HOST", "http://127.0.0.1"),
        ("METRICS_HOST", "a b"),
        ("HEALTH_OUTBOX_MAX_AGE_SECONDS", "5"),
        ("LOG_FORMAT", "xml"),
        ("REMINDER_MINUTE_SECONDS", "0.01"),
        ("REMINDER_MINUTE_SECONDS", "61"),
        ("REMINDER_MINUTE_SECONDS", "nan"),
        ("REMINDER_MINUTE_SECONDS", "1e3"),
        ("ALERT_EDIT_INTERVAL_SECONDS", "0.01"),
        ("ALERT_EDIT_INTERVAL_SECONDS", "2"),
        ("ALERT_EDIT_INTERVAL_SECONDS", "-1"),
    ],
)
def test_bad_operator_settings_name_the_setting(name: str, value: str):
    with pytest.raises(SettingsError) as caught:
        load_settings({"DISCORD_TOKEN": TOKEN, name: value})
    assert caught.value.setting == name
    assert "\n" not in str(caught.value) and TOKEN not in str(caught.value)


def test_the_reminder_minute_for_tests_takes_decimals():
    fast = load_settings({"DISCORD_TOKEN": TOKEN, "REMINDER_MINUTE_SECONDS": "0.25"})
    assert fast.reminder_minute_seconds == 0.25
    assert load_settings({"DISCORD_TOKEN": TOKEN}).reminder_minute_seconds == 60.0


def test_the_alert_edit_interval_for_tests_takes_decimals_and_defaults_to_a_second():
    fast = load_settings({"DISCORD_TOKEN": TOKEN, "ALERT_EDIT_INTERVAL_SECONDS": "0.2"})
    assert fast.alert_edit_interval_seconds == 0.2
    assert load_settings({"DISCORD_TOKEN": TOKEN}).alert_edit_interval_seconds == 1.0
