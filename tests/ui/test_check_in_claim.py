"""A check-in's claim ends in its record: an error between the claim and the DM (the database
failing to read the case, say) gives the claim back as FAILED, and so does a DM Discord takes
too long with; the member is not left 30 minutes without the check-in a moderator asked for.
Cancelled (the bot stopping), nothing is recorded: the claim is left to its lease (review of
stop 30, finding 1)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

import ui.welfare
from core.service import CheckInClaim
from core.welfare import CHECK_IN_LEASE, CHECK_IN_SEND_SECONDS, CheckInResult
from tests.ui.test_audit_line import GUILD, case_data

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


class Response:
    async def defer(self, **_: Any) -> None:
        pass


def pressed(
    monkeypatch: pytest.MonkeyPatch,
    alert_data: Any,
    recorded: list[tuple[int, CheckInResult]],
    answers: list[str],
) -> tuple[Any, CheckInClaim]:
    """A Check in press on case_data()'s case whose claim is granted; `alert_data` is how the
    case reads; records and the moderator's answers are collected."""
    case = case_data().case
    claim = CheckInClaim(case, AT)

    async def require(*_: Any) -> Any:
        return case

    async def claim_check_in(*_: Any) -> CheckInClaim:
        return claim

    async def record_check_in(given: CheckInClaim, actor: int, result: CheckInResult) -> None:
        assert given is claim
        recorded.append((actor, result))

    async def target_of(*_: Any) -> tuple[Any, Any]:
        return None, SimpleNamespace(display_name="Dave", bot=False)

    async def reply_or_edit(_: Any, text: str) -> None:
        answers.append(text)

    monkeypatch.setattr(ui.welfare, "target_of", target_of)
    monkeypatch.setattr(ui.welfare, "reply_or_edit", reply_or_edit)
    cases = SimpleNamespace(
        require=require,
        claim_check_in=claim_check_in,
        alert_data=alert_data,
        record_check_in=record_check_in,
    )
    interaction = SimpleNamespace(
        guild=SimpleNamespace(id=GUILD, name="Harbour"),
        guild_id=GUILD,
        locale="en-GB",
        guild_locale="en-GB",
        user=SimpleNamespace(id=500),
        response=Response(),
        client=SimpleNamespace(services=SimpleNamespace(cases=cases)),
    )
    return interaction, claim


async def test_an_error_before_the_dm_gives_the_claim_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def alert_data(_: int) -> Any:
        raise RuntimeError("the database is gone")

    recorded: list[tuple[int, CheckInResult]] = []
    interaction, claim = pressed(monkeypatch, alert_data, recorded, [])
    with pytest.raises(RuntimeError):  # answered with help by the item (ui.items)
        await ui.welfare.on_check_in(interaction, claim.case.id)
    assert recorded == [(500, CheckInResult.FAILED)]


async def test_a_dm_discord_takes_too_long_with_counts_as_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def alert_data(_: int) -> Any:
        return case_data()

    async def send_check_in(*_: Any, **__: Any) -> tuple[CheckInResult, int]:
        await asyncio.sleep(3600)  # rate limits and retries, waited out
        raise AssertionError("unreachable")

    monkeypatch.setattr(ui.welfare, "send_check_in", send_check_in)
    monkeypatch.setattr(ui.welfare, "CHECK_IN_SEND_SECONDS", 0.05)
    recorded: list[tuple[int, CheckInResult]] = []
    answers: list[str] = []
    interaction, claim = pressed(monkeypatch, alert_data, recorded, answers)
    await asyncio.wait_for(ui.welfare.on_check_in(interaction, claim.case.id), 5)
    assert recorded == [(500, CheckInResult.FAILED)]
    assert len(answers) == 1 and "Dave" in answers[0]


async def test_a_check_in_cancelled_on_its_way_is_left_to_its_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = asyncio.Event()

    async def alert_data(_: int) -> Any:
        return case_data()

    async def send_check_in(*_: Any, **__: Any) -> tuple[CheckInResult, int]:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    monkeypatch.setattr(ui.welfare, "send_check_in", send_check_in)
    recorded: list[tuple[int, CheckInResult]] = []
    interaction, claim = pressed(monkeypatch, alert_data, recorded, [])
    task = asyncio.create_task(ui.welfare.on_check_in(interaction, claim.case.id))
    await started.wait()
    task.cancel()  # the bot stopping: the DM may have gone
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorded == []
    assert CHECK_IN_LEASE.total_seconds() > CHECK_IN_SEND_SECONDS
