"""Property-based fuzzing of every text input, end to end: the real `python bot.py` against the
offline Discord emulator, on both backends (the `vigil` fixture's `database_url` parametrisation).

Arbitrary Unicode (control characters, NUL, bidi overrides, zero-width characters), SQL
fragments, markdown and mention forgeries and huge payloads go into `/report` (details and
message link), the "Report user" form, `/hotlines` and its autocomplete, `/reports setup region`,
the moderators' note and escalation forms, and component presses with forged custom IDs. After
every example: the bot is alive and answered (ephemerally), nothing invalid is stored, no request
broke Discord's OpenAPI spec, and no message Vigil sent can ping anyone because of user text.

How hypothesis drives one bot process per test
----------------------------------------------
Starting `bot.py` takes about a second, so every example of a test reuses the one process the
fixture started. `@given` is not put on the async test itself (pytest-asyncio would run each
example through `Runner.run`, stopping the loop between examples, and the per-surface setup and
the final "still serving" check would have to live in fixtures). Instead the test awaits
`fuzz(...)`, which runs a `@given`-decorated *sync* function in a worker thread
(`asyncio.to_thread`); each example submits its coroutine to the test's running loop with
`asyncio.run_coroutine_threadsafe` and waits for it. The loop (emulator, gateway heartbeats,
alert outbox) keeps running between examples, failures propagate to hypothesis for shrinking,
and setup/teardown stay plain code in the test. The profile is derandomised (`derandomize=True`,
no example database) so a CI failure reproduces locally; `VIGIL_FUZZ_EXAMPLES=200` runs deeper.

Examples accumulate state in one database (duplicates, open cases, kicked members): every
property is stated so that it holds whatever came before.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from cogs.guild_admin import QueuePageButton
from core.i18n import tr
from core.models import EscalationTarget
from core.policy import RefusalCode, refusal_text, refuse
from core.reasons import Reason
from core.rendering import render_refusal
from core.text import clean_user_text
from emulator.botproc import REPO_ROOT
from emulator.interactions import InteractionResult
from tests.e2e.conftest import CALLBACK, EPHEMERAL, MESSAGE, MESSAGES, Vigil, result_text
from ui.case_actions import CancelButton, CaseButton, ConfirmButton, DismissSelect, TimeoutSelect
from ui.country_menu import CountrySelect
from ui.relay import AddDetailsButton, AnswerButton, StopButton

# --------------------------------------------------------------------------- hypothesis profile

EXAMPLES = int(os.environ.get("VIGIL_FUZZ_EXAMPLES", "20"))
SETTLE_SECONDS = 30  # how long `Watch.settle` waits for the outbox (a loaded CI machine)
# Shrinking replays dozens of interactions per step (seconds each when the bot fails to answer),
# so CI reports the first failing example as found; VIGIL_FUZZ_SHRINK=1 minimises it locally.
PHASES = [Phase.explicit, Phase.generate] + (
    [Phase.shrink] if os.environ.get("VIGIL_FUZZ_SHRINK") else []
)
PROFILE = settings(
    max_examples=EXAMPLES,
    phases=PHASES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


async def fuzz(
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], Awaitable[None]],
    *,
    explicit: Sequence[Any] = (),
    examples: int = EXAMPLES,
) -> None:
    """Run `check` on hypothesis' examples of `strategy` (and `explicit` ones first), each on
    this test's event loop, with hypothesis itself in a worker thread (see the module doc)."""
    loop = asyncio.get_running_loop()

    def run_one(value: Any) -> None:
        future = asyncio.run_coroutine_threadsafe(check(value), loop)
        try:
            future.result(timeout=120)
        except TimeoutError as error:  # an interaction the bot never answered (or a hang)
            future.cancel()
            raise AssertionError(f"no answer: {error}") from error

    prop = settings(PROFILE, max_examples=examples)(given(strategy)(run_one))
    for value in reversed(explicit):
        prop = example(value)(prop)
    await asyncio.to_thread(prop)


async def finished(vigil: Vigil, record: Any, watch: Watch) -> None:
    """Wait until the bot is done with an interaction it acknowledged: a deferred one has its
    real answer (an edit of @original, a follow-up), and the alert outbox has caught up."""
    if record.callback_type in (5, 6):
        await vigil.emu.waiters.wait_for(
            lambda: record.original_edits > 0 or record.followups or record.original_deleted,
            20,
            f"the answer after deferring interaction {record.id}",
        )
    await watch.settle()


# --------------------------------------------------------------------------- what users type

FORGERIES = (
    "@everyone",
    "@here",
    "@\u200beveryone",
    "＠everyone",
    "\\@everyone",
    "<@&123456789012345678>",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "\\<@123456789012345678>",
    "<#123456789012345678>",
    "</report:123456789012345678>",
    "<t:0:R>",
    "<a:x:123456789012345678>",
    "[click me](https://evil.example/phish)",
    "[https://discord.com](https://evil.example)",
    "https://evil.example/x",
    "<https://evil.example>",
    "# heading",
    "\n# heading",
    "\n## big\n",
    "\n-# small",
    "\n> quote",
    "**bold**",
    "__under__",
    "~~strike~~",
    "||spoiler||",
    "`code`",
    "```\ncode\n```",
    "\\",
)
SQL = (
    "'; DROP TABLE reports; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "Robert'); DROP TABLE cases;--",
    "1; UPDATE reports SET details = NULL; --",
    "'; SELECT pg_sleep(10); --",
    "%",
    "_",
    "?",
    "$1",
    "NULL",
    "\\x00",
    "E'\\\\x00'",
)
CONTROLS = (
    "\x00",
    "\x1b[31m",
    "\x07",
    "\x7f",
    "\x85",
    "\r\n",
    "\r",
    "\t",
    "\u202e",
    "\u202d",
    "\u2066",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u2028",
    "\u2029",
    "\ufffd",
    "\uffff",
    "\U000e0041",
    "\U0010fffd",
    "Z̷̢͈a̴l̷g̵o̸",
    "👩\u200d👩\u200d👧",
    "🏳️\u200d🌈",
    "ﷺ",
)
HUGE_UNITS = ("a", "é", "😀", "@everyone ", "\x00", "'; DROP TABLE reports; --", "\u200b")
HUGE_SIZES = (999, 1000, 1001, 2000, 6000, 10_000, 100_000)
PADS = ("", " ", "\n\n", "\t", "\u3000", " " * 1200)
CLASSIC = (
    "@everyone @here <@&1> <@123456789012345678> [click](https://evil.example) "
    "'; DROP TABLE reports; --\n# heading\n> quote \u202e\x00"
)


def repeat(unit: str, size: int) -> str:
    """`unit` repeated to exactly `size` characters."""
    return (unit * (size // len(unit) + 1))[:size]


def pad(padding: str, core: str) -> str:
    return padding + core + padding


any_text = st.text(st.characters(codec="utf-8"), max_size=200)
fragments = st.sampled_from(FORGERIES + SQL + CONTROLS)
mixed_text = st.lists(st.one_of(fragments, any_text), max_size=8).map("".join)
huge_text = st.builds(repeat, st.sampled_from(HUGE_UNITS), st.sampled_from(HUGE_SIZES))
padded_text = st.builds(pad, st.sampled_from(PADS), mixed_text)
user_text = st.one_of(mixed_text, any_text, huge_text, padded_text)
"""Anything a member could type, and things only a modified client could send."""

short_text = st.one_of(fragments, st.text(st.characters(codec="utf-8"), max_size=30))
REASONS = tuple(r.value for r in Reason)
REPORTERS = ("alice", "bob", "carol", "erin", "maya", "milo", "adam", "olivia")
TARGETS = ("dave", "zed")
LOCALES = ("en-GB", "en-US", "de", "fr", "es-ES", "es-419", "pt-BR", "ja", "zh-CN", "ru", "tr")
CODES = frozenset(json.loads((REPO_ROOT / "core" / "hotlines.json").read_text())["countries"])
COUNTRY_WORDS = (
    "gb",
    " GB ",
    "\u3000de\u3000",
    "Germany",
    "deutschland",
    "United Kingdom",
    "Côte d’Ivoire",
    "xx",
    "ZZ",
    "𝐆𝐁",
    "ＧＢ",
    "Atlantis",
    "Narnia",
    "",
    "g",
)
country_text = st.one_of(st.sampled_from(COUNTRY_WORDS), st.sampled_from(sorted(CODES)), user_text)

GENERIC_ERRORS = ("something went wrong", tr("error.generic", "en-GB"))
CHOOSE_REASON = tr("modal.choose_reason", "en-GB")
MAX_DETAILS = 1000
MAX_NOTE = 1000
MAX_REFERENCE = 100  # the escalation form declares `max_length=100` for the reference

WEBHOOK = "/webhooks/{webhook_id}/{webhook_token}"
WEBHOOK_ORIGINAL = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
WEBHOOK_MESSAGE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
SENDING = {MESSAGES, MESSAGE, CALLBACK, WEBHOOK, WEBHOOK_ORIGINAL, WEBHOOK_MESSAGE}
MENTION = re.compile(r"<@([!&]?)(\d+)>")
PING_ALL = re.compile(r"@(everyone|here)")
URL = re.compile(r"https?://[^\s)>\]|]+")
FORMATTING_AT_LINE_START = re.compile(r"(?m)^\s*(#{1,3}|-#|>{1,3})\s")


# --------------------------------------------------------------------------- the fixture


@pytest.fixture
async def vigil(emulator, bot_factory, tmp_path: Path, database_url: str) -> Vigil:
    """The conftest `vigil`, with a rate limit high enough for hundreds of fuzzed reports
    (the limit itself is tested in test_moderation_and_safety.py)."""
    v = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    await v.start(REPORT_RATE_LIMIT="1000")
    return v


# --------------------------------------------------------------------------- invariants


def body_text(body: dict[str, Any]) -> str:
    parts = [str(body.get("content") or "")]
    for embed in body.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        parts += [f"{f.get('name', '')}\n{f.get('value', '')}" for f in embed.get("fields") or []]
        parts.append(str((embed.get("footer") or {}).get("text") or ""))
        parts.append(str((embed.get("author") or {}).get("name") or ""))
    return "\n".join(parts)


def is_alert(body: dict[str, Any]) -> bool:
    return any(
        "Vigil case #" in str((e.get("footer") or {}).get("text") or "")
        for e in body.get("embeds") or []
    )


class Watch:
    """Checks everything Vigil sent and stored since the last look."""

    def __init__(self, vigil: Vigil) -> None:
        self.v = vigil
        self.world = vigil.world
        self.guild = vigil.guild
        self.user_ids = {u.id for u in self.world.users.values()}
        self.mod_role = vigil.guild.role("Moderators").id
        self.seen = 0
        self.checked_requests = 0
        self.last_report = 0
        self.last_event = 0

    # -- Discord side -------------------------------------------------------------------------
    def check_requests(self) -> None:
        requests = self.v.emu.requests
        new, self.seen = requests[self.seen :], len(requests)
        for request in new:
            self.checked_requests += 1
            self.check_request(request)

    def check_request(self, request: Any) -> None:
        if request.method not in ("POST", "PATCH") or request.template not in SENDING:
            return
        raw = request.body if isinstance(request.body, dict) else {}
        where = f"{request.method} {request.path}: {str(raw)[:600]}"
        body: dict[str, Any] = raw
        if request.template == CALLBACK:
            kind = raw.get("type")
            data = raw.get("data") or {}
            if kind in (4, 5):  # a new message (or its "thinking" placeholder): private
                assert int(data.get("flags") or 0) & EPHEMERAL, f"not ephemeral: {where}"
            if kind == 8:
                self.check_choices(data.get("choices") or [], where)
            if kind not in (4, 7):
                return
            body = data
        elif request.template == WEBHOOK and request.method == "POST":
            assert int(raw.get("flags") or 0) & EPHEMERAL, f"follow-up not ephemeral: {where}"
        if not ("content" in body or "embeds" in body):
            return
        mentions = body.get("allowed_mentions")
        assert mentions is not None, f"no allowed_mentions: {where}"
        assert mentions.get("parse") == [], f"allowed_mentions.parse: {where}"
        assert not mentions.get("users"), f"allowed_mentions.users: {where}"
        roles = {int(r) for r in mentions.get("roles") or []}
        assert roles <= {self.mod_role}, f"allowed_mentions.roles: {where}"
        self.check_text(body, request, where)

    def check_text(self, body: dict[str, Any], request: Any, where: str) -> None:
        text = body_text(body)
        assert not PING_ALL.search(text), f"@everyone/@here in a message: {where}"
        for kind, number in MENTION.findall(text):
            if kind == "&":
                assert int(number) == self.mod_role, f"forged role mention <@&{number}>: {where}"
            else:
                assert int(number) in self.user_ids, f"forged user mention <@{number}>: {where}"
        assert "://evil.example" not in text.casefold(), f"a user's link is clickable: {where}"
        to_alerts = request.params.get("channel_id") == str(self.v.alerts_channel.id)
        if to_alerts or is_alert(body):
            prefix = f"https://discord.com/channels/{self.guild.id}/"
            for url in URL.findall(text):
                assert url.startswith(prefix), f"foreign link {url!r} in an alert: {where}"
            heading = FORMATTING_AT_LINE_START.search(text)
            assert heading is None, f"user text formats the alert ({heading!r}): {where}"

    def check_choices(self, choices: list[dict[str, Any]], where: str) -> None:
        assert len(choices) <= 25, f"{len(choices)} choices: {where}"
        for choice in choices:
            assert 1 <= len(choice["name"]) <= 100, f"choice name: {where}"
            assert choice["value"] in CODES, f"choice value: {where}"

    # -- database side ------------------------------------------------------------------------
    def check_db(self) -> None:
        """Rows stored since the last look (so a failure names the example that stored it)."""
        for row_id, guild_id, reason, details, link, channel_id, message_id in self.v.db_rows(
            "SELECT id, guild_id, reason, details, message_link, channel_id, message_id "
            "FROM reports WHERE id > ? ORDER BY id",
            (self.last_report,),
        ):
            self.last_report = row_id
            where = f"report {row_id}: {details!r:.200} {link!r}"
            assert reason in REASONS, where
            if details is not None:
                assert 0 < len(details) <= MAX_DETAILS, where
                assert details == details.strip(), where
            if link is None:
                assert channel_id is None and message_id is None, where
                continue
            match = re.fullmatch(
                rf"https://discord\.com/channels/{guild_id}/([1-9][0-9]{{14,19}})"
                r"/([1-9][0-9]{14,19})",
                link,
            )
            assert match is not None, f"stored link is not canonical: {where}"
            assert (int(match[1]), int(match[2])) == (channel_id, message_id), where
        for event_id, action, note, detail in self.v.db_rows(
            "SELECT id, action, note, detail FROM case_events WHERE id > ? ORDER BY id",
            (self.last_event,),
        ):
            self.last_event = event_id
            where = f"case event {action}: {note!r:.200} {detail!r}"
            if note is not None:
                assert 0 < len(note) <= MAX_NOTE and note == note.strip(), where
            if action == "escalate":
                assert detail in {t.value for t in EscalationTarget}, where
                assert note is None or len(note) <= MAX_REFERENCE, where
        for (region,) in self.v.db_rows("SELECT region FROM guild_settings"):
            assert region is None or region in CODES, f"stored region {region!r}"

    async def settle(self) -> None:
        """Wait until the alert outbox has delivered every change (edits included). A wait, not
        a measure: the deadline is generous for a loaded CI machine, and a miss says what the
        emulator refused and what the bot logged, so a stuck alert explains itself."""
        deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
        while True:
            pending = self.v.db_rows(
                "SELECT id, alert_posted_revision, alert_revision FROM cases "
                "WHERE alert_posted_revision < alert_revision"
            )
            if not pending:
                return
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(0.05)
        refused = [
            f"{r.method} {r.path} -> {r.status}"
            for r in self.v.emu.requests
            if r.status is not None and r.status >= 400
        ]
        log = self.v.proc.log_text()[-3000:] if self.v.proc is not None else ""
        raise AssertionError(
            f"the alert outbox did not drain within {SETTLE_SECONDS} s: {pending}; "
            f"violations {[str(v) for v in self.v.emu.violations]}; refused {refused[-10:]}; "
            f"bot log tail:\n{log}"
        )

    async def rerender_newest_case(self) -> None:
        """Show the case of the newest report with `/reports case`: the alert embed and the full
        record, rendered at once (the alert message itself is edited at most once a second, so
        it is checked when the outbox has drained, in `finish`)."""
        rows = self.v.db_rows(
            "SELECT c.number FROM reports r JOIN cases c ON c.id = r.case_id "
            "ORDER BY r.id DESC LIMIT 1"
        )
        if rows:
            await self.rerender(int(rows[0][0]))

    async def rerender(self, number: int) -> None:
        result = await self.v.slash("reports case", "olivia", number=number)
        assert_polite(result)
        assert is_alert(result.data), result.data

    async def after_example(self) -> None:
        proc = self.v.proc
        assert proc is not None and proc.returncode is None, "the bot process died"
        assert not self.v.emu.violations, [str(v) for v in self.v.emu.violations]
        self.check_requests()
        self.check_db()

    async def finish(self) -> None:
        """After a surface: still alive, a normal report still works, everything still valid,
        and every alert the outbox posted or edited meanwhile passes the same checks."""
        await self.settle()
        await self.after_example()
        before = self.v.report_count()
        reply = await self.v.report("bob", "carol", "spam", details="canary after fuzzing")
        assert reply.ephemeral and "received" in (reply.content or ""), reply
        assert self.v.report_count() == before + 1
        await self.settle()
        await self.after_example()
        assert self.checked_requests > 0


def assert_polite(result: InteractionResult) -> None:
    """An ephemeral answer that is not the "something went wrong" fallback."""
    assert result.type in (4, 5), result
    assert result.ephemeral, result
    text = result_text(result)
    assert not any(e in text for e in GENERIC_ERRORS), f"generic error instead of an answer: {text}"


def newest_report(vigil: Vigil) -> tuple[Any, ...]:
    return vigil.db_rows(
        "SELECT reporter_id, target_id, reason, details, message_link, source "
        "FROM reports ORDER BY id DESC LIMIT 1"
    )[0]


def expected_details(text: str) -> str | None:
    """What Vigil stores for user text: control characters and bidi overrides removed, then
    trimmed (core/text.py `clean_user_text`, the one definition)."""
    return clean_user_text(text)


# --------------------------------------------------------------------------- 1. /report details


@pytest.mark.long_scenario(seconds=5)
async def test_report_details(vigil: Vigil):
    await vigil.setup(mod_role="Moderators", region="GB")
    watch = Watch(vigil)
    users = vigil.world.users

    async def check(case: tuple[str, str, str, str]) -> None:
        reporter, target, reason, details = case
        before = vigil.report_count()
        reply = await vigil.report(reporter, target, reason, details=details)
        assert_polite(reply)
        if len(expected_details(details) or "") > MAX_DETAILS:
            too_long = render_refusal(refuse(RefusalCode.DETAILS_TOO_LONG), Reason(reason), "en-GB")
            assert reply.content == too_long, reply
            assert vigil.report_count() == before, "a refused report was stored"
        else:
            assert "received" in (reply.content or ""), reply
            assert vigil.report_count() == before + 1
            row = newest_report(vigil)
            assert row[:4] == (
                users[reporter].id,
                users[target].id,
                reason,
                expected_details(details),
            ), row
            await watch.rerender_newest_case()
        await watch.after_example()

    strategy = st.tuples(
        st.sampled_from(REPORTERS), st.sampled_from(TARGETS), st.sampled_from(REASONS), user_text
    )
    await fuzz(
        strategy,
        check,
        explicit=[
            ("alice", "dave", "child_safety", CLASSIC),
            ("bob", "dave", "harassment", "x" * 1000),
            ("carol", "dave", "hate", "x" * 1001),
            ("erin", "dave", "spam", repeat("@everyone ", 10_000)),
            ("maya", "dave", "other", "y" * 100_000),
            ("milo", "dave", "scam", "'; DROP TABLE reports; --"),
            ("adam", "dave", "self_harm", " " * 1500 + "ok" + "\n" * 1500),
            ("olivia", "dave", "impersonation", "nul \x00 byte"),
        ],
    )
    await watch.finish()


# --------------------------------------------------------------------------- 2. /report link

HOSTS = (
    "discord.com",
    "discordapp.com",
    "ptb.discord.com",
    "canary.discord.com",
    "ptb.discordapp.com",
    "canary.discordapp.com",
)
BAD_PREFIXES = (
    "http://discord.com",
    "https://discord.gg",
    "https://cdn.discordapp.com",
    "https://media.discordapp.net",
    "https://discord.com.evil.example",
    "https://evil.example/discord.com",
    "https://discord.com@evil.example",
    "https://www.discord.com",
    "https://evil.discord.com",
    "ftp://discord.com",
    "https:/discord.com",
    "discord.com",
    "javascript:alert(1)//discord.com",
)
snowflake = st.integers(10**14, 2**63 - 1)


def link(host: str, guild: Any, channel: Any, message: Any, tail: str = "") -> str:
    return f"https://{host}/channels/{guild}/{channel}/{message}{tail}"


def link_strategy(
    guild_id: int, other_guild_id: int, channels: list[int]
) -> st.SearchStrategy[tuple[str, str]]:
    """(text, what must happen): "accept", "foreign", "unknown" (this guild's ID, a channel
    that is not this guild's), "refuse", or "either" (a polite answer either way; anything
    stored is checked against the canonical form). Only `channels` are this guild's."""
    host = st.sampled_from(HOSTS)
    decorate = st.sampled_from(
        [("", ""), ("", "/"), ("<", ">"), (" ", " "), ("\n", "\t"), ("<", "/>")]
    )

    def decorated(core: str, around: tuple[str, str]) -> str:
        return around[0] + core + around[1]

    valid = st.builds(
        decorated,
        st.builds(link, host, st.just(guild_id), st.sampled_from(channels), snowflake),
        decorate,
    ).map(lambda text: (text, "accept"))
    unknown = st.builds(
        link, host, st.just(guild_id), snowflake.filter(lambda c: c not in channels), snowflake
    ).map(lambda text: (text, "unknown"))
    foreign_guild = st.one_of(st.just(other_guild_id), snowflake.filter(lambda g: g != guild_id))
    foreign = st.builds(link, host, foreign_guild, snowflake, snowflake).map(
        lambda text: (text, "foreign")
    )
    wrong_host = st.builds(
        lambda prefix, c, m: f"{prefix}/channels/{guild_id}/{c}/{m}",
        st.sampled_from(BAD_PREFIXES),
        snowflake,
        snowflake,
    )
    wrong_shape = st.one_of(
        st.builds(
            link,
            host,
            st.just(guild_id),
            snowflake,
            snowflake,
            st.sampled_from(["/1", "?x=1", "#frag", "/../../x", "%00", "\x00", " extra", "\u202e"]),
        ),
        st.builds(lambda h, c: f"https://{h}/channels/{guild_id}/{c}", host, snowflake),
        st.builds(lambda h, m: f"https://{h}/channels/@me/{m}/{m}", host, snowflake),
        st.builds(link, host, st.just(guild_id), st.integers(0, 10**13), snowflake),
        st.builds(link, host, st.just(guild_id), short_text, snowflake),
    )
    refused = st.one_of(wrong_host, wrong_shape, user_text).map(lambda text: (text, "refuse"))
    # Valid-looking links with ids no snowflake can have (20-21 digits, beyond 64 bits), leading
    # zeros, non-ASCII digits, upper-case hosts: refusing or accepting are both fine, but the
    # answer must be polite and anything stored must be canonical and in range.
    digits = st.one_of(
        st.integers(2**63 - 3, 10**21 - 1),
        st.integers(0, 10**18).map(lambda n: str(n).zfill(18)),
        snowflake.map(lambda n: str(n).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))),
        snowflake.map(
            lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        ),
    )
    odd = st.one_of(
        st.builds(link, host, st.just(guild_id), digits, snowflake),
        st.builds(link, host, st.just(guild_id), snowflake, digits),
        st.builds(
            link,
            st.sampled_from(["DISCORD.COM", "Discord.com"]),
            st.just(guild_id),
            snowflake,
            snowflake,
        ),
    ).map(lambda text: (text, "either"))
    return st.one_of(valid, unknown, foreign, refused, odd)


async def test_report_message_link(vigil: Vigil):
    await vigil.setup()
    watch = Watch(vigil)
    guild_id = vigil.guild.id
    channels = [c.id for c in vigil.guild.channels.values()]
    general = vigil.guild.channel("general").id
    turn = {"n": 0}

    async def check(case: tuple[tuple[str, str], str]) -> None:
        (text, expect), reason = case
        # A refusal for a critical reason also says not to wait (its guidance follows).
        bad = render_refusal(refuse(RefusalCode.BAD_LINK), Reason(reason), "en-GB")
        elsewhere = render_refusal(refuse(RefusalCode.FOREIGN_LINK), Reason(reason), "en-GB")
        unknown = render_refusal(refuse(RefusalCode.UNKNOWN_CHANNEL), Reason(reason), "en-GB")
        if not text.strip():
            expect = "nolink"  # an empty option is no link at all
        reporter = REPORTERS[turn["n"] % len(REPORTERS)]
        turn["n"] += 1
        before = vigil.report_count()
        reply = await vigil.report(reporter, "dave", reason, message_link=text)
        assert_polite(reply)
        stored = vigil.report_count() - before
        if expect == "accept":
            assert "received" in (reply.content or ""), (text, reply)
            assert stored == 1
            parts = text.strip().strip("<>").rstrip("/").split("/")
            canonical = f"https://discord.com/channels/{guild_id}/{parts[-2]}/{parts[-1]}"
            assert newest_report(vigil)[4] == canonical
        elif expect == "foreign":
            assert reply.content == elsewhere and stored == 0, (text, reply)
        elif expect == "unknown":
            assert reply.content == unknown and stored == 0, (text, reply)
        elif expect == "nolink":
            assert "received" in (reply.content or "") and stored == 1, (text, reply)
            assert newest_report(vigil)[4] is None
        elif expect == "refuse":
            assert reply.content in (bad, elsewhere, unknown) and stored == 0, (text, reply)
        elif stored:
            assert "received" in (reply.content or ""), (text, reply)
        else:
            assert reply.content in (bad, elsewhere, unknown), (text, reply)
        await watch.after_example()

    other = vigil.world.guild_b.id
    await fuzz(
        st.tuples(link_strategy(guild_id, other, channels), st.sampled_from(REASONS)),
        check,
        explicit=[
            ((link("discord.com", guild_id, general, 10**17 + 1), "accept"), "spam"),
            ((link("discord.com", guild_id, 10**17, 10**17 + 1), "unknown"), "spam"),
            ((link("discord.com", other, 10**17, 10**17 + 1), "foreign"), "spam"),
            ((link("discord.com", guild_id, 10**17, "9" * 21), "either"), "spam"),
            ((link("discord.com", guild_id, 10**17, "0" * 18), "either"), "spam"),
            (("[x](https://evil.example)", "refuse"), "spam"),
            (("'; DROP TABLE reports; --", "refuse"), "hate"),
            (("h" * 10_000, "refuse"), "other"),
        ],
    )
    await watch.finish()


# --------------------------------------------------------------------------- 3. "Report user"


async def test_report_user_form(vigil: Vigil):
    await vigil.setup(mod_role="Moderators")
    watch = Watch(vigil)
    users = vigil.world.users
    reporters = tuple(r for r in REPORTERS if r != "carol")
    select_values = st.lists(st.one_of(st.sampled_from(REASONS), short_text), max_size=3)

    async def check(case: tuple[str, str, list[str], str]) -> None:
        reporter, target, values, details = case
        opened = await vigil.run(
            vigil.emu.build.user_command("Report user", user=reporter, target=target)
        )
        form = f"vigil:rf:u:{users[target].id}"
        assert opened.type == 9 and opened.data["custom_id"] == form, opened
        before = vigil.report_count()
        reply = await vigil.run(
            vigil.emu.build.modal_submit(
                form, user=reporter, fields={"reason": values, "details": details}
            )
        )
        assert_polite(reply)
        stored = vigil.report_count() - before
        if not values or values[0] not in REASONS:
            if len(values) <= 1:
                assert reply.content == CHOOSE_REASON and stored == 0, reply
        elif len(expected_details(details) or "") > MAX_DETAILS:
            too_long = render_refusal(
                refuse(RefusalCode.DETAILS_TOO_LONG), Reason(values[0]), "en-GB"
            )
            assert reply.content == too_long, reply
        elif len(values) == 1:
            assert "received" in (reply.content or "") and stored == 1, reply
        if stored:
            row = newest_report(vigil)
            assert row[0] == users[reporter].id and row[1] == users[target].id, row
            assert row[2] in values and row[3] == expected_details(details), row
            assert row[5] == "user_menu", row
            await watch.rerender_newest_case()
        else:
            assert reply.content == CHOOSE_REASON or (reply.content or "").startswith(
                refusal_text(RefusalCode.DETAILS_TOO_LONG, "en-GB")
            ), reply
        await watch.after_example()

    strategy = st.tuples(
        st.sampled_from(reporters),
        st.sampled_from(("dave", "carol", "zed")),
        select_values,
        user_text,
    )
    await fuzz(
        strategy,
        check,
        explicit=[
            ("alice", "dave", ["child_safety"], CLASSIC),
            ("bob", "dave", [], "no reason chosen"),
            ("erin", "dave", ["'; DROP TABLE reports; --"], "bad reason"),
            ("maya", "dave", ["spam"], "z" * 1001),
            ("milo", "dave", ["other"], "w" * 100_000),
            ("adam", "zed", ["hate"], "\x00\u202e\u200b"),
        ],
    )
    await watch.finish()


# --------------------------------------------------------------------------- 4. /hotlines


async def test_hotlines_and_autocomplete(vigil: Vigil):
    watch = Watch(vigil)

    async def check(case: tuple[str, str, str]) -> None:
        mode, text, locale = case
        build = vigil.emu.build
        exact = text.strip().upper() in CODES
        if mode == "command":
            result = await vigil.run(
                build.slash("hotlines", user="alice", options={"country": text}, locale=locale)
            )
            assert_polite(result)
            if result.embeds:
                assert result.embeds[0].get("description"), result
            else:
                assert not exact, f"{text!r} is a directory code"
                assert result.content == tr("country.unknown", locale), result
        else:
            if mode == "hotlines-autocomplete":
                payload = build.slash(
                    "hotlines",
                    user="bob",
                    options={"country": text},
                    focused="country",
                    locale=locale,
                )
            else:
                payload = build.slash(
                    "reports setup",
                    user="olivia",
                    options={"region": text},
                    focused="region",
                    locale=locale,
                )
            result = await vigil.run(payload)
            assert result.type == 8, result
            watch.check_choices(result.choices, repr(text))
            if exact:
                assert result.choices[0]["value"] == text.strip().upper(), result.choices
        await watch.after_example()

    strategy = st.tuples(
        st.sampled_from(("command", "hotlines-autocomplete", "setup-autocomplete")),
        country_text,
        st.sampled_from(LOCALES),
    )
    await fuzz(
        strategy,
        check,
        examples=EXAMPLES + 10,
        explicit=[
            ("command", "gb", "en-GB"),
            ("command", "Narnia", "de"),
            ("command", "'; DROP TABLE reports; --", "en-GB"),
            ("command", "c" * 100_000, "fr"),
            ("hotlines-autocomplete", "", "en-GB"),
            ("hotlines-autocomplete", "\x00", "ja"),
            ("hotlines-autocomplete", "a" * 10_000, "pt-BR"),
            ("setup-autocomplete", CLASSIC, "es-ES"),
        ],
    )
    await watch.finish()


# --------------------------------------------------------------------------- 5. setup region


async def test_setup_region(vigil: Vigil):
    watch = Watch(vigil)
    # This server's row only: every process also records the locale of the servers it sees.
    settings_sql = "SELECT * FROM guild_settings WHERE guild_id = ?"

    async def check(region: str) -> None:
        before = vigil.db_rows(settings_sql, (vigil.guild.id,))
        result = await vigil.setup(region=region)
        assert_polite(result)
        code = region.strip().upper()
        if code in CODES:
            assert "Vigil is set up" in (result.content or ""), result
            stored = vigil.db_rows(
                "SELECT region FROM guild_settings WHERE guild_id = ?", (vigil.guild.id,)
            )
            assert stored == [(code,)], stored
        else:
            assert "don't know that region" in (result.content or ""), (region, result)
            after = vigil.db_rows(settings_sql, (vigil.guild.id,))
            assert after == before, "a refused setup changed the settings"
        await watch.after_example()

    await fuzz(
        country_text,
        check,
        explicit=[
            "Atlantis",
            "de",
            " gb ",
            "'; DROP TABLE guild_settings; --",
            "x" * 100_000,
            "\x00",
            "G\u200bB",
        ],
    )
    await watch.finish()


# --------------------------------------------------------------------------- 6. notes, escalation


async def open_critical_case(vigil: Vigil) -> tuple[int, dict[str, Any]]:
    await vigil.setup(mod_role="Moderators")
    reply = await vigil.report("alice", "dave", "violent_threat", details="said they would hurt")
    assert "saved for the moderators" in (reply.content or ""), reply
    await vigil.wait_alerts(1)
    case_id = int(vigil.db_rows("SELECT id FROM cases")[0][0])
    return case_id, vigil.alerts()[0]


async def test_note_and_escalation_forms(vigil: Vigil):
    case_id, alert = await open_critical_case(vigil)
    watch = Watch(vigil)
    where_values = st.lists(
        st.one_of(st.sampled_from([t.value for t in EscalationTarget]), short_text), max_size=2
    )
    events_sql = "SELECT action, note, detail FROM case_events ORDER BY id"

    async def check(case: tuple[str, str, list[str]]) -> None:
        kind, text, where = case
        build = vigil.emu.build
        opened = await vigil.run(
            build.component(f"vigil:case:{kind}:{case_id}", user="maya", message=alert)
        )
        assert opened.type == 9, opened
        target = vigil.db_rows("SELECT target_id FROM cases WHERE id = ?", (case_id,))[0][0]
        form = f"vigil:{kind}-form:{case_id}:{target}"
        assert opened.data["custom_id"] == form, opened.data
        before = vigil.db_rows(events_sql)
        if kind == "note":
            fields: dict[str, Any] = {"note": text}
        else:
            fields = {"where": where, "reference": text}
        reply = await vigil.run(build.modal_submit(form, user="maya", fields=fields))
        assert_polite(reply)
        after = vigil.db_rows(events_sql)
        added = after[len(before) :]
        assert after[: len(before)] == before
        cleaned = expected_details(text) or ""
        if kind == "note" and not cleaned:
            assert "empty" in (reply.content or "") and not added, reply
        elif kind == "note":
            assert reply.content == "Note added to case #1.", reply
            # The same note again within TWIN_WINDOW is one entry (core.service.TWIN_GUARDED).
            rows = added or [r for r in before if r[0] == "note" and cleaned.startswith(r[1])]
            assert len(added) <= 1 and rows and rows[0][0] == "note", (added, before)
            assert cleaned.startswith(rows[0][1]) and len(rows[0][1]) <= MAX_NOTE
        elif len(where) != 1 or where[0] not in {t.value for t in EscalationTarget}:
            assert "Choose where" in (reply.content or "") and not added, reply
        else:
            assert (reply.content or "").startswith("Recorded on case #1:"), reply
            same = [r for r in before if r[0] == "escalate" and r[2] == where[0]]
            rows = added or [r for r in same if r[1] is None or cleaned.startswith(r[1])]
            assert len(added) <= 1 and rows and rows[0][0] == "escalate", (added, before)
            assert rows[0][2] == where[0]
            assert rows[0][1] is None or cleaned.startswith(rows[0][1]), rows
        await watch.rerender(1)
        await watch.after_example()

    strategy = st.tuples(st.sampled_from(("note", "escalate")), user_text, where_values)
    await fuzz(
        strategy,
        check,
        explicit=[
            ("note", CLASSIC, []),
            ("note", "   \n\t ", []),
            ("note", "n" * 1001, []),
            ("note", "m" * 100_000, []),
            ("escalate", "CT-12345 <@&1> @everyone [x](https://evil.example)", ["ncmec"]),
            ("escalate", "r" * 101, ["police"]),
            ("escalate", "ref", ["'; DROP TABLE case_events; --"]),
            ("escalate", "ref", []),
            ("note", "\x00", []),
        ],
    )
    await watch.finish()


# --------------------------------------------------------------------------- 7. component presses

BUTTON_ITEMS = (
    CaseButton,
    ConfirmButton,
    CancelButton,
    QueuePageButton,
    AnswerButton,  # t15-relay: a question's DM, and a reporter's confirmation
    StopButton,
    AddDetailsButton,
)
SELECT_ITEMS = (TimeoutSelect, DismissSelect, CountrySelect)
CASE_KEYS = (
    "acknowledge",
    "resolve",
    "dismiss",
    "note",
    "escalate",
    "export",
    "timeout",
    "kick",
    "ban",
    "delete_messages",
    "ask_reporter",
)


def handled(custom_id: str, component_type: int) -> bool:
    """Whether one of Vigil's persistent components claims this custom_id (it must answer)."""
    items = BUTTON_ITEMS if component_type == 2 else SELECT_ITEMS
    return any(i.__discord_ui_compiled_template__.fullmatch(custom_id) for i in items)


def forged_message(base: dict[str, Any], custom_id: str, kind: int, values: list[str]):
    """`base` carrying exactly the pressed component, as Discord requires of a press."""
    if kind == 2:
        component: dict[str, Any] = {"type": 2, "style": 2, "label": "x", "custom_id": custom_id}
    else:
        options = [{"label": (v or "-")[:100], "value": (v or "-")[:100]} for v in values]
        component = {
            "type": 3,
            "custom_id": custom_id,
            "options": options or [{"label": "-", "value": "-"}],
            "min_values": 1,
            "max_values": 1,
        }
    return {**base, "components": [{"type": 1, "components": [component]}]}


_TEMPLATE_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


def custom_id_format(item: Any) -> tuple[str, tuple[str, ...]] | None:
    """A DynamicItem's custom-ID template as a format string and its field names
    (`vigil:confirm:{key}:{case_id}:{arg}`), read from the item itself so the fuzzing follows
    template changes (a new field, a new order); None if the template is not that simple."""
    pattern: str = item.__discord_ui_compiled_template__.pattern
    names: list[str] = []

    def field(match: re.Match[str]) -> str:
        names.append(match["name"])
        return "{" + match["name"] + "}"

    shape = _TEMPLATE_GROUP.sub(field, pattern)
    literal = _TEMPLATE_GROUP.sub("", pattern)
    if not re.fullmatch(r"[A-Za-z0-9:_-]*", literal):
        return None
    return shape, tuple(names)


CONFIRM_FORMAT = custom_id_format(ConfirmButton) or (
    "vigil:confirm:{key}:{case_id}:{arg}",
    ("key", "case_id", "arg"),
)


def confirm_id(**values: str) -> str:
    """A confirmation's custom ID with these fields (fields not given: "0")."""
    shape, names = CONFIRM_FORMAT
    return shape.format(**{name: values.get(name, "0") for name in names})


def press_strategy(
    case_id: int, target_id: int = 0
) -> st.SearchStrategy[tuple[str, str, list[str], str]]:
    """(custom_id, where it is pressed, select values, who presses)."""
    number = st.one_of(
        st.just(str(case_id)),
        st.integers(0, 60).map(str),
        st.integers(2**63 - 3, 2**63 + 3).map(str),
        st.sampled_from(["9" * 19, "0" * 19, "-1", "1e3", "١", " 1", "00001"]),
    )
    key = st.one_of(
        st.sampled_from(CASE_KEYS),
        st.from_regex(r"[a-z_]{2,20}", fullmatch=True),
        short_text,
    )
    arg = st.one_of(
        st.sampled_from(["0", "3600", "86400", "604800", "9999999", "1234567", "-1", ""]),
        st.integers(0, 10**7).map(str),
    )
    values = st.lists(
        st.one_of(
            st.sampled_from(["600", "3600", "malicious", "duplicate", "GB", "XX"]), short_text
        ),
        max_size=2,
    )
    alert_places = st.sampled_from(["alert", "lighthouse"])
    on_alert = st.tuples(
        st.builds(lambda k, n: f"vigil:case:{k}:{n}", key, number),
        alert_places,
        st.just([]),
    )
    on_prompt = st.one_of(
        st.tuples(
            st.builds(
                lambda values: confirm_id(**values),
                st.fixed_dictionaries(
                    {
                        name: {
                            "key": st.one_of(
                                st.sampled_from(["kick", "ban", "delete_messages"]), key
                            ),
                            "case_id": number,
                            "arg": arg,
                        }.get(name, st.one_of(st.just(str(target_id)), number))
                        for name in CONFIRM_FORMAT[1]
                    }
                ),
            ),
            st.just("prompt"),
            st.just([]),
        ),
        st.tuples(
            st.builds(
                lambda f, n: f"vigil:{f}:{n}", st.sampled_from(["timeout", "dismiss"]), number
            ),
            st.just("prompt-select"),
            values,
        ),
        st.tuples(
            st.builds(
                lambda r, c: f"vigil:country:{r}:{c}",
                st.one_of(st.sampled_from(REASONS), st.from_regex(r"[a-z_]{1,40}", fullmatch=True)),
                st.one_of(
                    st.sampled_from(["GB", "US", "XX", "INTL", "ZZZ"]),
                    st.from_regex(r"[A-Z]{2,3}", fullmatch=True),
                ),
            ),
            st.just("prompt-select"),
            values,
        ),
        st.tuples(st.builds(lambda n: f"vigil:queue:{n}", number), st.just("prompt"), st.just([])),
        st.tuples(
            st.builds(
                lambda k, n: f"vigil:relay:{k}:{n}",
                st.sampled_from(["answer", "stop", "details"]),
                number,
            ),
            st.just("prompt"),
            st.just([]),
        ),
        st.tuples(st.just("vigil:cancel"), st.just("prompt"), st.just([])),
    )
    junk = st.tuples(
        st.builds(lambda t: ("vigil:" + t)[:100], short_text),
        st.sampled_from(["alert", "prompt"]),
        st.just([]),
    )
    return st.tuples(
        st.one_of(on_alert, on_prompt, junk),
        st.sampled_from(["maya", "bob", "olivia"]),
    ).map(lambda t: (*t[0], t[1]))


@pytest.mark.long_scenario(seconds=4)
async def test_forged_component_presses(vigil: Vigil):
    case_id, alert = await open_critical_case(vigil)
    target_id = int(vigil.db_rows("SELECT target_id FROM cases WHERE id = ?", (case_id,))[0][0])
    watch = Watch(vigil)
    emu = vigil.emu
    prompt_result = await vigil.run(
        emu.build.component(f"vigil:case:kick:{case_id}", user="maya", message=alert)
    )
    prompt = prompt_result.original()
    assert prompt is not None and int(prompt.get("flags") or 0) & EPHEMERAL, prompt
    lighthouse = vigil.world.guild_b
    moderation = lighthouse.channel("moderation")
    foreign_alert = {**alert, "channel_id": str(moderation.id), "guild_id": str(lighthouse.id)}
    cases_sql = "SELECT id, guild_id, status, handled_by, alert_message_id FROM cases ORDER BY id"
    events_sql = "SELECT COUNT(*) FROM case_events"
    enforcement = ("PUT", "DELETE", "PATCH")

    async def check(press: tuple[str, str, list[str], str]) -> None:
        custom_id, place, values, user = press
        kind = 3 if place == "prompt-select" else 2
        if place == "lighthouse":
            base, user = foreign_alert, {"maya": "hans", "bob": "ida", "olivia": "greta"}[user]
        elif place == "alert":
            base = alert
        else:
            base = prompt
        message = forged_message(base, custom_id, kind, values)
        payload = emu.build.component(
            custom_id,
            user=user,
            message=message,
            component_type=kind,
            values=values if kind == 3 else None,
        )
        cases_before = vigil.db_rows(cases_sql)
        events_before = vigil.db_rows(events_sql)
        first_request = len(emu.requests)
        must_answer = handled(custom_id, kind)
        record = await emu.dispatch_interaction(payload)
        try:
            await asyncio.wait_for(asyncio.shield(record.callback), 3.5 if must_answer else 0.25)
        except TimeoutError:
            assert not must_answer, f"no answer to a press of {custom_id!r} by {user}"
        if record.callback_type is not None:
            # An example ends when the bot has finished answering it, not at its first
            # callback: a deferred press (a confirmation) records its action after the defer,
            # and a redrawn alert is marked rendered after the edit. Without this wait, one
            # example's write could land in the next example's "before" snapshot.
            await finished(vigil, record, watch)
            result = InteractionResult(emu, record)
            assert result.type in (4, 5, 6, 7, 9), (custom_id, result)
            if result.type in (4, 5):
                assert_polite(result)
            elif result.type == 6:
                assert place.startswith("prompt"), (custom_id, result)
            elif result.type == 7:
                assert place.startswith("prompt") or is_alert(result.data), (custom_id, result)
            else:
                # A form: a note, an escalation, a question (t15-relay), or a reporter's
                # answer or details (only ever for their own question or report).
                assert re.fullmatch(
                    r"vigil:case:(note|escalate|ask_reporter):\d+|vigil:relay:(answer|details):\d+",
                    custom_id,
                ), custom_id
        if place == "lighthouse" or user in ("bob", "ida"):
            await asyncio.sleep(0.05)
            assert vigil.db_rows(cases_sql) == cases_before, f"{user} changed a case"
            assert vigil.db_rows(events_sql) == events_before, f"{user} recorded an action"
            acted = [
                r
                for r in emu.requests[first_request:]
                if r.method in enforcement and "/guilds/" in r.path
            ]
            assert not acted, f"{user}'s press acted on Discord: {acted}"
        await watch.after_example()

    await fuzz(
        press_strategy(case_id, target_id),
        check,
        examples=EXAMPLES + 10,
        explicit=[
            (f"vigil:case:acknowledge:{case_id}", "lighthouse", [], "maya"),
            (f"vigil:case:dismiss:{case_id}", "alert", [], "bob"),
            ("vigil:case:acknowledge:9999999999999999999", "alert", [], "maya"),
            ("vigil:case:export:0", "alert", [], "maya"),
            ("vigil:case:zzz:1", "alert", [], "maya"),
            ("vigil:case:acknowledge:-1", "alert", [], "maya"),
            (confirm_id(key="ban", case_id=str(case_id), arg="1234567"), "prompt", [], "maya"),
            # A confirmation that acts (deferred, recorded after the defer), then at once the
            # forged press that once saw its write land late (issue 11, item 18).
            (f"vigil:timeout:{case_id}", "prompt-select", ["600"], "maya"),
            (confirm_id(key="\u200b", case_id="1", arg="3600"), "prompt", [], "bob"),
            (f"vigil:timeout:{case_id}", "prompt-select", ["31536000"], "maya"),
            (f"vigil:dismiss:{case_id}", "prompt-select", ["'; DROP TABLE cases; --"], "maya"),
            ("vigil:country:child_safety:ZZZ", "prompt-select", ["<@&1>"], "bob"),
            ("vigil:queue:999999", "prompt", [], "olivia"),
        ],
    )
    await watch.finish()
