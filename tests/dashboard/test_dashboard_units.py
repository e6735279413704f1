"""The dashboard's pure parts (offline): its settings, cookie signing, the CSRF and rate-limit
rules, and that it words and validates exactly like the Discord side does."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from cogs.guild_admin import GuildAdmin
from core.hotlines import HotlineDirectory
from core.i18n import tr
from core.models import GuildSettings
from core.outcomes import Outcome
from core.settings import SettingsError, load_settings
from core.setup_rules import SETUP_RANGES, SetupForm, check_setup
from dashboard import words
from dashboard.security import SignInLimiter
from dashboard.sessions import sign, unsign
from tests.core.test_settings import TOKEN
from ui import alert_view, case_common

BASE = {"DISCORD_TOKEN": TOKEN}


def test_dashboard_is_off_by_default_and_bound_to_localhost():
    settings = load_settings(BASE)
    assert settings.dashboard_port is None
    on = load_settings({**BASE, "DASHBOARD_PORT": "8088", "DISCORD_CLIENT_SECRET": "s3cret"})
    assert on.dashboard_port == 8088 and on.dashboard_host == "127.0.0.1"
    assert on.dashboard_public_url == "http://127.0.0.1:8088"
    assert "s3cret" not in repr(on)


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"DASHBOARD_PORT": "8088"}, "DISCORD_CLIENT_SECRET"),
        ({"DASHBOARD_PORT": "http", "DISCORD_CLIENT_SECRET": "x"}, "DASHBOARD_PORT"),
        (
            {
                "DASHBOARD_PORT": "1",
                "DISCORD_CLIENT_SECRET": "x",
                "DASHBOARD_PUBLIC_URL": "http://vigil.example.org",
            },
            "DASHBOARD_PUBLIC_URL",
        ),
        (
            {
                "DASHBOARD_PORT": "1",
                "DISCORD_CLIENT_SECRET": "x",
                "DASHBOARD_PUBLIC_URL": "ftp://x",
            },
            "DASHBOARD_PUBLIC_URL",
        ),
        ({"DASHBOARD_HOST": "not a host"}, "DASHBOARD_HOST"),
    ],
)
def test_bad_dashboard_settings_name_the_setting(env, setting):
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, **env})
    assert caught.value.setting == setting and "\n" not in str(caught.value)


def test_https_public_url_is_accepted():
    settings = load_settings(
        {
            **BASE,
            "DASHBOARD_PORT": "8088",
            "DISCORD_CLIENT_SECRET": "x",
            "DASHBOARD_PUBLIC_URL": "https://vigil.example.org/",
        }
    )
    assert settings.dashboard_public_url == "https://vigil.example.org"


def test_cookies_are_signed():
    key = b"k" * 32
    signed = sign(key, "token")
    assert unsign(key, signed) == "token"
    assert unsign(b"other" * 8, signed) is None
    assert unsign(key, "token.deadbeef") is None
    assert unsign(key, signed[:-1] + ("0" if signed[-1] != "0" else "1")) is None
    assert unsign(key, None) is None and unsign(key, "") is None


def test_sign_in_limit_per_client_and_window():
    limiter = SignInLimiter(per_client=3, overall=5, window=60, fair_share=1)
    assert [limiter.allow("a", now=0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", now=1) and limiter.allow("c", now=1)
    # Past the overall cap a newcomer gets their fair share (t18-sec: never nothing).
    assert limiter.allow("d", now=2) and not limiter.allow("d", now=2)  # overall cap
    assert not limiter.allow("b", now=2)  # b already had its share
    assert limiter.allow("a", now=61)  # the window moved on


def test_setup_ranges_are_the_slash_commands():
    """The web form and /reports setup accept exactly the same numbers."""
    command = GuildAdmin.reports.get_command("setup")
    assert command is not None
    declared = {
        p.name: (p.min_value, p.max_value) for p in command.parameters if p.min_value is not None
    }
    for name, bounds in SETUP_RANGES.items():
        assert declared[name] == bounds, name


def _form(**kw) -> SetupForm:
    fields = {
        "alert_channel_id": "10",
        "threshold": "3",
        "window_hours": "24",
        "min_account_age_days": "0",
        "retention_days": "180",
        "urgent_reminder_minutes": "15",
        "reporter_feedback": True,
    }
    return SetupForm(**{**fields, **kw})


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"threshold": "0"}, "dash.settings_bad_field"),
        ({"threshold": "51"}, "dash.settings_bad_field"),
        ({"window_hours": "-1"}, "dash.settings_bad_field"),
        ({"retention_days": "1e3"}, "dash.settings_bad_field"),
        ({"alert_channel_id": ""}, "admin.no_alert_channel"),
        ({"alert_channel_id": "99"}, "dash.settings_bad_choice"),  # another server's channel
        ({"mod_role_id": "1"}, "admin.no_everyone"),
        ({"mod_role_id": "77"}, "dash.settings_bad_choice"),
        ({"region": "Atlantis"}, "admin.unknown_region"),
    ],
)
def test_setup_form_is_checked_like_reports_setup(changes, code):
    checked = check_setup(
        GuildSettings(guild_id=5),
        _form(**changes),
        text_channels={10, 11},
        roles={20},
        everyone_role=1,
        directory=HotlineDirectory.load(),
        locale="de",
    )
    assert isinstance(checked, Outcome) and checked.code == code


def test_a_valid_setup_form_saves_every_field():
    checked = check_setup(
        GuildSettings(guild_id=5),
        _form(threshold="50", mod_role_id="20", audit_channel_id="11", region="de"),
        text_channels={10, 11},
        roles={20},
        everyone_role=1,
        directory=HotlineDirectory.load(),
        locale="de",
    )
    assert isinstance(checked, GuildSettings)
    assert (checked.alert_channel_id, checked.threshold, checked.mod_role_id) == (10, 50, 20)
    assert (checked.audit_channel_id, checked.region, checked.locale) == (11, "DE", "de")


def test_the_web_words_like_the_alert():
    """The dashboard's catalogue maps are the alert's (no drift between Discord and web)."""
    assert words.STATUS_KEYS == alert_view.STATUS_KEYS
    assert words.EVENT_KEYS == alert_view.EVENT_KEYS
    assert words.DISMISS_LABEL_KEYS == alert_view.DISMISS_LABEL_KEYS
    assert words.DISMISS_INLINE_KEYS == alert_view.DISMISS_INLINE_KEYS
    assert words.ESCALATION_LABEL_KEYS == alert_view.ESCALATION_LABEL_KEYS
    assert words.ESCALATION_NAMES == alert_view.ESCALATION_NAMES
    assert words.ESCALATION_EVENT_KEYS == alert_view.ESCALATION_EVENT_KEYS
    assert words.TIMEOUT_KEYS == alert_view.TIMEOUT_CHOICES
    assert words.BAN_DELETE_KEYS == alert_view.BAN_DELETE_CHOICES
    assert words.CHECK_IN_RESULT_KEYS == alert_view.CHECK_IN_RESULT_KEYS
    # Delivery problems are worded by the bot (ui/setup_checks.py), as /reports config does.
    assert not hasattr(words, "PROBLEM_KEYS")
    from dashboard.app import NOTE_LIMIT, REFERENCE_LIMIT

    assert (NOTE_LIMIT, REFERENCE_LIMIT) == (case_common.MAX_NOTE, case_common.MAX_REFERENCE)


def test_dashboard_never_imports_discord_storage_or_ui():
    """An edge like ui/, through core's services only: no SQL, no discord.py, no ui/."""
    root = Path(inspect.getfile(words)).parent
    for path in sorted(root.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for forbidden in ("import discord", "from discord", "storage", "from ui", "import ui"):
            assert forbidden not in source, (path.name, forbidden)


@pytest.mark.parametrize("locale", ["en-GB", "de", "fr", "es-ES", "es-419", "pt-BR"])
def test_a_bad_number_names_its_field_on_one_line(locale):
    """The web form's error says which field is wrong, in the server's language, on one line."""
    checked = check_setup(
        GuildSettings(guild_id=5),
        _form(window_hours="0"),
        text_channels={10},
        roles=set(),
        everyone_role=1,
        directory=HotlineDirectory.load(),
        locale=locale,
    )
    assert isinstance(checked, Outcome)
    text = words.describe_outcome(checked, locale)
    label = words.plain(tr("cmd.reports.setup.window_hours", locale))
    assert label in text and "720" in text and "\n" not in text
