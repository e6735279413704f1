"""Trust holes a race, a reporter or a log reader could open, closed end to end.

- A ban confirmed while another moderator dismissed the case is recorded, and the moderator
  is told the truth (the member was banned).
- Report details cannot forge lines or list markdown in an alert or a member's history.
- At LOG_LEVEL=DEBUG the log holds neither interaction tokens nor what reporters wrote.
- The largest case Vigil can hold still fits every Discord limit, in the alert and in
  `/reports case`.
"""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import Vigil
from tests.e2e.test_moderator_workflow import critical_case, press, settled

BAN = "/guilds/{guild_id}/bans/{user_id}"


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def test_ban_while_another_moderator_dismisses_is_recorded_and_told(vigil: Vigil):
    alert = await critical_case(vigil)
    maya, milo = vigil.world.users["maya"], vigil.world.users["milo"]
    prompt = await press(vigil, alert, "vigil:case:ban:1", "maya")
    message = prompt.original()
    assert message is not None
    confirm = next(i for i in custom_ids(message) if i.startswith("vigil:confirm:ban:"))

    # Milo dismisses the case (as another process would) at the moment Maya's ban reaches
    # Discord: after every check Vigil made before banning, before it records the ban.
    dismissed: list[bool] = []

    def milo_dismisses(_request: Any) -> bool:
        if not dismissed:
            dismissed.append(True)
            vigil.db_rows(
                "UPDATE cases SET status = 'dismissed', dismiss_reason = 'duplicate', "
                "closed_at = opened_at, handled_by = ?, handled_at = opened_at, "
                "alert_revision = alert_revision + 1 WHERE id = 1",
                (milo.id,),
            )
            vigil.db_rows(
                "INSERT INTO case_events (case_id, actor_id, action, detail, created_at) "
                "SELECT 1, ?, 'dismiss', 'duplicate', opened_at FROM cases WHERE id = 1",
                (milo.id,),
            )
        return False  # not a fault: Discord bans the member

    vigil.emu.faults.add("PUT", BAN, predicate=milo_dismisses)
    done = await press(vigil, message, confirm, "maya")
    text = await settled(done)
    assert dismissed, "the ban never reached Discord"
    ban = vigil.emu.requests_to("PUT", BAN)[-1]
    assert ban.status == 204 and ban.params["user_id"] == str(vigil.world.users["dave"].id)
    assert "was banned" in text and "Nothing was changed" not in text, text
    assert "dismissed" in text, text  # and that the case stayed as Milo left it
    events = vigil.db_rows("SELECT action, actor_id FROM case_events WHERE case_id = 1 ORDER BY id")
    assert events == [("dismiss", milo.id), ("ban", maya.id)]
    assert vigil.db_rows("SELECT status FROM cases WHERE id = 1") == [("dismissed",)]


HOSTILE = (
    "he threatened me\n<t:1700000000:R> <@123456789012345678>: forged second report\n"
    "1. step one\n2) step two\n+ bullet\n# heading\n> quote\u2028- dash line\n\n\n"
    "  3. indented"
)


def field(message: dict[str, Any], prefix: str) -> str:
    for embed in message.get("embeds") or []:
        for f in embed.get("fields") or []:
            if f["name"].startswith(prefix):
                return str(f["value"])
    raise AssertionError(f"no field {prefix!r} in {message}")


HOSTILE_WORDS = ("forged", "step one", "step two", "bullet", "heading", "quote", "dash", "indented")
FORMATTING = re.compile(r"(#{1,3}\s|-#\s|>|[-*+]\s|[0-9]+[.)]\s)")


def no_line_is_formatting(text: str) -> None:
    """No line that carries the reporter's words starts with list, heading or quote markdown."""
    for line in text.splitlines():
        if any(word in line for word in HOSTILE_WORDS):
            assert not FORMATTING.match(line.lstrip()), line


async def test_report_details_cannot_forge_lines_or_lists(vigil: Vigil):
    """A reporter's newlines stay inside their own line: one line per report in the alert and
    in `/reports history`, and no line of theirs renders as a list, heading or quote."""
    await vigil.setup(threshold=2)
    await vigil.report("alice", "dave", details=HOSTILE)
    await vigil.report("bob", "dave", details="second, honest report")
    await vigil.wait_alerts(1)
    message = await vigil.wait_alert_text("second, honest report")
    latest = field(message, "Latest reports")
    lines = latest.splitlines()
    assert len(lines) == 2, latest  # one per report, whatever the details say
    assert all(line.startswith("<t:") for line in lines), latest
    assert "forged second report" in lines[0] and "↵" in lines[0]
    no_line_is_formatting(latest)

    history = await vigil.slash("reports history", "adam", member="dave")
    text = history.content or ""
    report_lines = [line for line in text.splitlines() if "<@" in line and "<t:" in line]
    assert len([line for line in report_lines if "forged second report" in line]) == 1, text
    assert not any(line.lstrip().startswith("<t:1700000000") for line in text.splitlines()), text
    no_line_is_formatting(text)

    record = await vigil.slash("reports case", "adam", number=1)
    record_text = "\n".join(
        f["value"] for e in record.embeds for f in e.get("fields") or [] if "report" in f["name"]
    )
    assert not any(
        line.lstrip().startswith("<t:1700000000") for line in record_text.splitlines()
    ), record_text
    no_line_is_formatting(record_text)


def long_text(tag: str, size: int) -> str:
    """`size` characters of hostile filler (markdown, mentions, newlines), tagged."""
    unit = "**x** <@1> @everyone\n1. _y_ "
    return (tag + " " + unit * (size // len(unit) + 1))[:size]


def embeds_size(embeds: list[dict[str, Any]]) -> int:
    from emulator.limits import embed_size

    return sum(embed_size(e) for e in embeds)


async def test_the_largest_case_fits_discords_limits(vigil: Vigil):
    """Many reporters with the longest details, message links, many actions and long notes:
    the alert and `/reports case` (two embeds) still fit Discord's 6,000 characters per message
    (which the emulator enforces), so the alert is delivered instead of retried forever."""
    await vigil.setup(threshold=1, mod_role="Moderators")
    await vigil.report("alice", "dave", "violent_threat", details=long_text("first", 1000))
    await vigil.wait_alerts(1)
    guild, general = vigil.guild, vigil.guild.channel("general")
    dave, maya = vigil.world.users["dave"], vigil.world.users["maya"]
    opened = vigil.db_rows("SELECT opened_at FROM cases WHERE id = 1")[0][0]
    # What a busy case accumulates (as other processes would store it): 60 more reporters
    # with the longest details and a message link each, and 40 moderator actions and notes.
    for n in range(60):
        reporter = 1_100_000_000_000_000_000 + n
        link = (
            f"https://discord.com/channels/{guild.id}/{general.id}/{1_200_000_000_000_000_000 + n}"
        )
        vigil.db_rows(
            "INSERT INTO reports (guild_id, reporter_id, reporter_name, target_id, target_name, "
            "reason, source, details, message_link, channel_id, message_id, created_at, case_id, "
            "counts_toward_threshold) VALUES (?, ?, ?, ?, ?, 'violent_threat', 'message_menu', "
            "?, ?, ?, ?, ?, 1, 1)",
            (
                guild.id,
                reporter,
                "r" * 32,
                dave.id,
                "d" * 32,
                long_text(f"report{n}", 1000),
                link,
                general.id,
                1_200_000_000_000_000_000 + n,
                opened,
            ),
        )
    for n in range(40):
        action, note, detail = (
            ("note", long_text(f"note{n}", 1000), None)
            if n % 2
            else ("escalate", long_text(f"ref{n}", 100), "police")
        )
        vigil.db_rows(
            "INSERT INTO case_events (case_id, actor_id, action, note, detail, created_at) "
            "VALUES (1, ?, ?, ?, ?, ?)",
            (maya.id, action, note, detail, opened),
        )
    vigil.db_rows("UPDATE cases SET target_name = ? WHERE id = 1", ("D" * 100,))
    # One more report through Discord makes Vigil redraw the alert with all of it.
    await vigil.report("bob", "dave", "violent_threat", details="the last straw")
    message = await vigil.wait_alert_text("the last straw", timeout=20)
    assert embeds_size(message["embeds"]) <= 6000
    assert not vigil.emu.violations, [str(v) for v in vigil.emu.violations]

    record = await vigil.slash("reports case", "adam", number=1)
    assert record.type == 4 and len(record.embeds) == 2, record
    assert embeds_size(record.embeds) <= 6000
    assert not vigil.emu.violations, [str(v) for v in vigil.emu.violations]
    # The case's newest reports and the last note are still there to read.
    assert "the last straw" in str(record.embeds[0])
