"""Moves the case-thread and relay tests share (t15-relay): giving Vigil the thread
permissions, reading a case's thread, asking a reporter, answering from a DM."""

from __future__ import annotations

from typing import Any

from emulator import P
from emulator.interactions import InteractionResult
from tests.e2e.conftest import Vigil
from tests.e2e.test_moderator_workflow import press

THREADS = "/channels/{channel_id}/messages/{message_id}/threads"
THREAD_PERMISSIONS = int(P.CREATE_PUBLIC_THREADS | P.SEND_MESSAGES_IN_THREADS)


async def allow_threads(vigil: Vigil, allowed: bool = True) -> None:
    """Give (or take) Vigil's role Create Public Threads and Send Messages in Threads in the
    alert channel, and tell the running bot (CHANNEL_UPDATE), as Discord would."""
    channel = vigil.alerts_channel
    role = vigil.guild.role("Vigil")
    for overwrite in channel.overwrites:
        if overwrite.id == role.id:
            if allowed:
                overwrite.allow |= THREAD_PERMISSIONS
                overwrite.deny &= ~THREAD_PERMISSIONS
            else:
                overwrite.allow &= ~THREAD_PERMISSIONS
                overwrite.deny |= THREAD_PERMISSIONS
    await vigil.emu.dispatch("CHANNEL_UPDATE", channel.payload(), vigil.guild.id)


def threads(vigil: Vigil) -> list[Any]:
    return vigil.emu.threads(vigil.alerts_channel.id)


async def wait_thread(vigil: Vigil, timeout: float = 10.0) -> Any:
    return await vigil.emu.waiters.wait_for(
        lambda: threads(vigil)[0] if threads(vigil) else None, timeout, "the case's thread"
    )


def posts(vigil: Vigil, channel_id: int) -> list[dict[str, Any]]:
    return vigil.emu.channel_messages(channel_id)


def post_text(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(parts)


async def wait_post(
    vigil: Vigil, channel_id: int, needle: str, timeout: float = 15.0
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        return next((m for m in posts(vigil, channel_id) if needle in post_text(m)), None)

    return await vigil.emu.waiters.wait_for(check, timeout, f"a post containing {needle!r}")


async def ask(
    vigil: Vigil, alert: dict[str, Any], reporter: int, question: str, moderator: str = "maya"
) -> tuple[InteractionResult, dict[str, Any]]:
    """Ask reporter from the alert: the form, then its submission; (submission, the answer
    the moderator was given)."""
    opened = await press(vigil, alert, f"vigil:case:ask_reporter:{case_id(alert)}", moderator)
    assert opened.type == 9, opened.content  # a form
    submitted = await send_ask_form(vigil, opened, reporter, question, moderator)
    told = await submitted.wait_followup(timeout=10)
    return submitted, told


async def send_ask_form(
    vigil: Vigil, opened: InteractionResult, reporter: int, question: str, moderator: str = "maya"
) -> InteractionResult:
    """An opened Ask reporter form, sent from the alert channel with "Reporter N" chosen."""
    return await vigil.run(
        vigil.emu.build.modal_submit(
            opened.data["custom_id"],
            user=moderator,
            fields={"reporter": [choice(opened, reporter)], "question": question},
            channel=vigil.alerts_channel,
        )
    )


def choice(opened: InteractionResult, reporter: int) -> str:
    """The value Discord sends back for "Reporter N" of an opened Ask reporter form: the
    option's own value, as a real client would (a number the form does not list: the bare
    number, as a forged submission would send it)."""
    for label in opened.data["components"]:
        component = label.get("component") or {}
        if component.get("custom_id") == "reporter":
            options = component["options"]
            return (
                str(options[reporter - 1]["value"]) if reporter <= len(options) else str(reporter)
            )
    raise AssertionError("no reporter choice on the form")


def case_id(alert: dict[str, Any]) -> int:
    for row in alert["components"]:
        for component in row["components"]:
            custom_id = component.get("custom_id") or ""
            if custom_id.startswith("vigil:case:"):
                return int(custom_id.rsplit(":", 1)[1])
    raise AssertionError("no case button on the alert")


def dms(vigil: Vigil, user: str) -> list[dict[str, Any]]:
    channel = vigil.world.dm_channel_for(vigil.world.users[user])
    return vigil.emu.channel_messages(channel.id)


async def wait_dm(vigil: Vigil, user: str, count: int = 1) -> dict[str, Any]:
    return await vigil.emu.waiters.wait_for(
        lambda: dms(vigil, user)[count - 1] if len(dms(vigil, user)) >= count else None,
        10,
        f"{count} DM(s) to {user}",
    )


def button_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def wait_rows(
    vigil: Vigil, sql: str, expected: list[tuple[Any, ...]], timeout: float = 10.0
) -> None:
    """Until the database holds `expected` (a process records right after Discord answers)."""
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows(sql) == expected or None, timeout, f"{sql} == {expected}"
    )
