"""Answer first in a storm (issue 19): every report of a storm is acknowledged before it is
stored, the first ones too, and a quiet report still gets its answer in one go.

Before: the reports that arrived before a storm could be told from a quiet moment kept waiting
for their commit, and their answers then queued behind every acknowledgement of the storm:
in a wall of 1,000 they were the last answered (the max first-response time).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ui.replies import BUSY_AT, IN_FLIGHT, answer_within_deadline


class FakeResponse:
    def __init__(self) -> None:
        self.deferrals = 0

    async def defer(self, *, ephemeral: bool, thinking: bool) -> None:
        assert ephemeral and thinking
        self.deferrals += 1

    def is_done(self) -> bool:
        return self.deferrals > 0


class FakeInteraction:
    """What answer_within_deadline touches; a client without Vigil's lean sender."""

    def __init__(self) -> None:
        self.response = FakeResponse()
        self.client = object()


@pytest.fixture(autouse=True)
def quiet() -> Any:
    assert IN_FLIGHT.count == 0
    yield
    assert IN_FLIGHT.count == 0  # every report left the count, however it ended


async def stored_after(release: asyncio.Event) -> str:
    await release.wait()
    return "stored"


async def test_a_quiet_report_is_answered_with_its_result() -> None:
    release = asyncio.Event()
    interaction = FakeInteraction()
    task = asyncio.create_task(answer_within_deadline(interaction, stored_after(release)))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    release.set()
    assert await task == ("stored", False)
    assert interaction.response.deferrals == 0


async def test_the_first_reports_of_a_storm_are_acknowledged_as_soon_as_it_starts() -> None:
    release = asyncio.Event()
    early = [FakeInteraction() for _ in range(BUSY_AT - 1)]
    tasks = [
        asyncio.create_task(answer_within_deadline(i, stored_after(release)))  # type: ignore[arg-type]
        for i in early
    ]
    await asyncio.sleep(0.05)
    assert [i.response.deferrals for i in early] == [0] * len(early)  # not a storm yet
    last = FakeInteraction()
    tasks.append(asyncio.create_task(answer_within_deadline(last, stored_after(release))))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    # BUSY_AT reports in flight: all of them are acknowledged now, long before the 2 s
    # deferral deadline and before any of them is stored.
    assert [i.response.deferrals for i in [*early, last]] == [1] * BUSY_AT
    release.set()
    assert await asyncio.gather(*tasks) == [("stored", True)] * BUSY_AT


async def test_a_report_arriving_in_a_storm_is_acknowledged_before_it_is_stored() -> None:
    release = asyncio.Event()
    storm = [FakeInteraction() for _ in range(BUSY_AT)]
    tasks = [
        asyncio.create_task(answer_within_deadline(i, stored_after(release)))  # type: ignore[arg-type]
        for i in storm
    ]
    await asyncio.sleep(0.05)
    started: list[str] = []

    async def record() -> str:
        started.append("storing")
        return await stored_after(release)

    late = FakeInteraction()
    task = asyncio.create_task(answer_within_deadline(late, record()))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert late.response.deferrals == 1 and started == ["storing"]
    release.set()
    assert await task == ("stored", True)
    await asyncio.gather(*tasks)


async def test_a_failed_report_leaves_the_count() -> None:
    async def fails() -> str:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        await answer_within_deadline(FakeInteraction(), fails())  # type: ignore[arg-type]
