"""``python bot.py demo``: Vigil working, offline, in about a minute.

Why: someone deciding whether to add Vigil to their server (or checking an install) should see
what members and moderators actually get before creating a bot token. The demo starts this
package's Discord emulator on 127.0.0.1 (an ephemeral port; nothing leaves the machine), runs
the real ``bot.py`` against it as a subprocess with a temporary SQLite database, exactly as the
end-to-end tests do, and plays a short story on the sample server "Harbour": three members
report someone, the alert reaches the moderators, a moderator times the member out from the
alert, the reporters are told, and a child-safety report gets the hotline guidance and the
urgent alert. Every body the bot sends is checked against Discord's OpenAPI spec; any failed
step, or any invalid body, makes the demo exit non-zero.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .botproc import BotProcess
from .interactions import InteractionResult
from .server import Emulator
from .world import World

STEP_TIMEOUT = 30.0  # generous: the demo may run on a busy machine; it fails, never hangs
WIDTH = 96


class DemoFailed(Exception):
    """A step of the story did not happen as it should."""


class Screen:
    """Plain-text rendering of what each person sees, with mentions shown as names."""

    def __init__(self, world: World, out: TextIO) -> None:
        self.world = world
        self.out = out

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def scene(self, title: str) -> None:
        self.say()
        self.say(f"== {title} ".ljust(WIDTH, "="))

    def act(self, who: str, what: str) -> None:
        self.say(f"> {who} {what}")

    def names(self, text: str) -> str:
        """``<@id>``/``<@&id>``/``<#id>`` as @name, #channel, the way Discord displays them."""

        def user(match: re.Match[str]) -> str:
            uid = int(match.group(1))
            for u in self.world.users.values():
                if u.id == uid:
                    return "@" + u.username
            return match.group(0)

        def role(match: re.Match[str]) -> str:
            rid = int(match.group(1))
            for guild in self.world.guilds.values():
                for r in guild.roles.values():
                    if r.id == rid:
                        return "@" + r.name
            return match.group(0)

        def channel(match: re.Match[str]) -> str:
            cid = int(match.group(1))
            for guild in self.world.guilds.values():
                for c in guild.channels.values():
                    if c.id == cid and c.name:
                        return "#" + c.name
            return match.group(0)

        def when(match: re.Match[str]) -> str:
            moment = datetime.fromtimestamp(int(match.group(1)), UTC)
            return moment.strftime("%Y-%m-%d %H:%M UTC")

        text = text.replace("**", "")
        text = re.sub(r"<(https?://[^>\s]+)>", r"\1", text)
        text = re.sub(r"<t:(\d+)(?::[tTdDfFR])?>", when, text)
        text = re.sub(r"<@&(\d+)>", role, text)
        text = re.sub(r"<@!?(\d+)>", user, text)
        return re.sub(r"<#(\d+)>", channel, text)

    def block(
        self, heading: str, message: dict[str, Any] | InteractionResult, brief: bool = False
    ) -> None:
        """A message as its reader sees it: text, embeds (title, fields, footer), buttons;
        ``brief``: its first line only (the same answer as shown just before)."""
        data = message.data if isinstance(message, InteractionResult) else message
        self.say(f"  [{heading}]")
        lines: list[str] = []
        if data.get("content"):
            lines += str(data["content"]).splitlines()
        for embed in data.get("embeds") or []:
            if embed.get("title"):
                lines.append(f"| {embed['title']}")
            if embed.get("description"):
                lines += [f"| {line}" for line in str(embed["description"]).splitlines()]
            for field in embed.get("fields") or []:
                value = " / ".join(str(field["value"]).splitlines())
                lines.append(f"| {field['name']}: {value}")
            footer = (embed.get("footer") or {}).get("text")
            if footer:
                lines.append(f"| ({footer})")
        buttons = [
            c.get("label") or c.get("placeholder") or "?"
            for row in data.get("components") or []
            for c in row.get("components") or []
            if c.get("type") in (2, 3)
        ]
        if buttons:
            lines.append("  ".join(f"[{b}]" for b in buttons))
        if brief:
            lines = [*lines[:1], "(... the same guidance as above)"]
        for line in lines:
            for part in textwrap.wrap(self.names(line), WIDTH - 4) or [""]:
                self.say(f"    {part}")


def _text(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or []]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


def _custom_ids(message: dict[str, Any]) -> list[str]:
    return [
        str(c.get("custom_id"))
        for row in message.get("components") or []
        for c in row.get("components") or []
    ]


class Story:
    """The scenes, each asserting that what a person should see is there."""

    def __init__(self, emu: Emulator, screen: Screen) -> None:
        self.emu = emu
        self.screen = screen
        self.world = emu.world
        self.guild = emu.world.guild_a
        self.alerts = self.guild.channel("mod-alerts")

    async def wait(self, check: Callable[[], Any], what: str) -> Any:
        try:
            return await self.emu.waiters.wait_for(check, STEP_TIMEOUT, what)
        except TimeoutError as error:
            raise DemoFailed(f"waited {STEP_TIMEOUT:.0f} s for {what}") from error

    async def run(self, payload: dict[str, Any]) -> InteractionResult:
        try:
            return await self.emu.interact(payload, timeout=STEP_TIMEOUT)
        except TimeoutError as error:
            raise DemoFailed("Vigil did not answer an interaction") from error

    def alert_with(self, needle: str) -> dict[str, Any] | None:
        for message in self.emu.channel_messages(self.alerts.id):
            if needle in _text(message):
                return message
        return None

    async def setup(self) -> None:
        self.screen.scene("Setup: the server owner points Vigil at #mod-alerts")
        self.screen.act(
            "olivia (owner)",
            "runs /reports setup alert_channel:#mod-alerts region:GB mod_role:@Moderators",
        )
        reply = await self.run(
            self.emu.build.slash(
                "reports setup",
                user="olivia",
                options={"alert_channel": "mod-alerts", "region": "GB", "mod_role": "Moderators"},
            )
        )
        if not reply.ephemeral:
            raise DemoFailed("the setup answer was not private to the owner")
        self.screen.block("only olivia sees", reply)

    async def three_reports(self) -> dict[str, Any]:
        self.screen.scene("Three members report dave for harassment")
        for name in ("alice", "bob", "carol"):
            self.screen.act(name, "runs /report member:@dave reason:Harassment")
            reply = await self.run(
                self.emu.build.slash(
                    "report", user=name, options={"member": "dave", "reason": "harassment"}
                )
            )
            if not reply.ephemeral:
                raise DemoFailed(f"{name}'s report was answered in public")
            self.screen.block(f"only {name} sees (ephemeral)", reply, brief=name != "alice")
        self.screen.say("  (dave sees nothing; no one else sees who reported)")
        alert: dict[str, Any] = await self.wait(
            lambda: self.alert_with("Case #1"), "the alert for case #1 in #mod-alerts"
        )
        self.screen.scene("The alert appears in #mod-alerts (moderators only)")
        self.screen.block("#mod-alerts", alert)
        return alert

    async def timeout(self, alert: dict[str, Any]) -> None:
        self.screen.scene("A moderator acts from the alert")
        if "vigil:case:timeout:1" not in _custom_ids(alert):
            raise DemoFailed("the alert has no Timeout button")
        self.screen.act("maya (moderator)", "presses [Timeout] on the alert")
        prompt = await self.run(
            self.emu.build.component("vigil:case:timeout:1", user="maya", message=alert)
        )
        shown = prompt.original()
        if shown is None or not prompt.ephemeral:
            raise DemoFailed("the Timeout button did not ask maya privately how long")
        self.screen.block("only maya sees", prompt)
        dave = self.world.users["dave"]
        self.screen.act("maya", "chooses 1 hour")
        done = await self.run(
            self.emu.build.component(
                f"vigil:timeout:1:{dave.id}",
                user="maya",
                message=shown,
                component_type=3,
                values=["3600"],
            )
        )
        try:
            confirmation = await done.wait_original_edit(timeout=STEP_TIMEOUT)
        except TimeoutError as error:
            raise DemoFailed("maya was not told whether the timeout worked") from error
        if "timed out" not in (confirmation.get("content") or ""):
            raise DemoFailed(f"the timeout did not happen: {confirmation.get('content')!r}")
        self.screen.block("only maya sees", confirmation)
        resolved: dict[str, Any] = await self.wait(
            lambda: self.alert_with("resolved by"), "the alert to show the case resolved"
        )
        self.screen.block("#mod-alerts, the alert updated", resolved)

    async def feedback(self) -> None:
        self.screen.scene("The reporters are told (a DM, without naming the action)")

        def dms() -> dict[str, dict[str, Any]] | None:
            found = {}
            for name in ("alice", "bob", "carol"):
                channel = self.world.dm_channel_for(self.world.users[name])
                messages = self.emu.channel_messages(channel.id)
                if not messages:
                    return None
                found[name] = messages[-1]
            return found

        received: dict[str, dict[str, Any]] = await self.wait(dms, "the feedback DMs")
        for name, message in received.items():
            self.screen.block(f"DM from Vigil to {name}", message)

    async def child_safety(self) -> None:
        self.screen.scene("A child-safety report: guidance at once, urgent alert")
        self.screen.act(
            "bob",
            "runs /report member:@carol reason:Child safety details:sent pictures to a kid",
        )
        reply = await self.run(
            self.emu.build.slash(
                "report",
                user="bob",
                options={
                    "member": "carol",
                    "reason": "child_safety",
                    "details": "sent pictures to a kid",
                },
            )
        )
        self.screen.block("only bob sees (ephemeral)", reply)
        if not reply.ephemeral:
            raise DemoFailed("the child-safety report was answered in public")
        text = _text(reply.data)
        if "999" not in text or "Internet Watch Foundation" not in text:
            raise DemoFailed("the reporter did not get the emergency number and the hotline")
        mods = self.guild.role("Moderators")
        alert: dict[str, Any] = await self.wait(
            lambda: self.alert_with("URGENT"), "the urgent alert in #mod-alerts"
        )
        if alert.get("content") != f"<@&{mods.id}>":
            raise DemoFailed("the urgent alert did not mention the moderator role")
        self.screen.block("#mod-alerts (pings @Moderators)", alert)


async def play(out: TextIO) -> int:
    """Run the whole demo; 0 when every step happened and every body matched the spec."""
    emu = Emulator()
    # As a server that wants urgent alerts to ping would have it (the tests' default is not).
    emu.world.guild_a.role("Moderators").mentionable = True
    screen = Screen(emu.world, out)
    await emu.start()
    try:
        with tempfile.TemporaryDirectory(prefix="vigil-demo-") as tmp:
            screen.say(
                f"Vigil demo: the real bot.py against an offline Discord on 127.0.0.1:{emu.port}"
            )
            screen.say(f"(no token, no network; a temporary database in {tmp}).")
            screen.say(
                'Sample server "Harbour": owner olivia, moderators maya and milo, '
                "members alice, bob, carol, dave."
            )
            # The repository's (or the installed) bot.py, as a plain subprocess, started in
            # the temporary directory so it reads no .env of a real deployment.
            bot = BotProcess(
                emu,
                cwd=tmp,
                db_path=Path(tmp) / "vigil.sqlite3",
                log_path=Path(tmp) / "bot.log",
                env={"LOG_LEVEL": "INFO"},
            )
            try:
                await _story(emu, screen, bot)
            except DemoFailed as error:
                print(f"vigil demo: FAILED: {error}", file=sys.stderr)
                tail = "\n".join(bot.log_text().splitlines()[-30:])
                print(f"bot log (last lines):\n{tail}", file=sys.stderr)
                return 1
            finally:
                await bot.stop()
    finally:
        await emu.stop()
    screen.say()
    screen.say(
        f"Done: {len(emu.requests)} requests from Vigil, every body valid against "
        "Discord's OpenAPI spec."
    )
    return 0


async def _story(emu: Emulator, screen: Screen, bot: BotProcess) -> None:
    await bot.start()
    try:
        await bot.wait_ready(STEP_TIMEOUT)
    except (TimeoutError, RuntimeError) as error:
        raise DemoFailed(f"Vigil did not start: {error}") from error
    story = Story(emu, screen)
    await story.setup()
    alert = await story.three_reports()
    await story.timeout(alert)
    await story.feedback()
    await story.child_safety()
    if emu.violations:
        raise DemoFailed(
            "Vigil sent bodies Discord would refuse:\n  "
            + "\n  ".join(str(v) for v in emu.violations)
        )


def main() -> int:
    return asyncio.run(play(sys.stdout))
