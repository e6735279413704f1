"""A check-in's claim always ends in its record: an error between the claim and the DM (the
database failing to read the case, say) gives the claim back as FAILED, so the member is not
left 30 minutes without the check-in a moderator asked for (review of stop 30, finding 1)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

import ui.welfare
from core.service import CheckInClaim
from core.welfare import CheckInResult
from tests.ui.test_audit_line import GUILD, case_data

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


class Response:
    async def defer(self, **_: Any) -> None:
        pass


async def test_an_error_before_the_dm_gives_the_claim_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = case_data().case
    recorded: list[tuple[int, CheckInResult]] = []
    claim = CheckInClaim(case, AT)

    async def require(*_: Any) -> Any:
        return case

    async def claim_check_in(*_: Any) -> CheckInClaim:
        return claim

    async def alert_data(_: int) -> Any:
        raise RuntimeError("the database is gone")

    async def record_check_in(given: CheckInClaim, actor: int, result: CheckInResult) -> None:
        assert given is claim
        recorded.append((actor, result))

    async def target_of(*_: Any) -> tuple[Any, Any]:
        return None, SimpleNamespace(display_name="Dave", bot=False)

    monkeypatch.setattr(ui.welfare, "target_of", target_of)
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
    with pytest.raises(RuntimeError):  # answered with help by the item (ui.items)
        await ui.welfare.on_check_in(interaction, case.id)  # type: ignore[arg-type]
    assert recorded == [(500, CheckInResult.FAILED)]
