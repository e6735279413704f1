"""A reported moderator never learns from a queue that they were reported (t15-followup), as
an attacker would test it: adam (Administrator, so Manage Server) was reported. His case is
refused to him, so `/reports queue` (and its page buttons, even forged) and the dashboard's
queue neither list nor count it; `/reports history` of his reporter and the stats name nothing
of it (the stats are team counts, no case or member). Another manager sees everything. Both
backends, through the emulator and over HTTP against the real bot.py."""

from __future__ import annotations

import html
import re

from tests.e2e.conftest import Vigil, result_text
from tests.e2e.dashboard_helpers import browser, start_with_dashboard
from tests.e2e.relay_helpers import wait_rows
from tests.e2e.test_moderator_workflow import press

# Nine open cases; adam's is #7 (reported by alice, as the rotation goes).
TARGETS = ["bob", "carol", "dave", "erin", "maya", "milo", "adam", "ida", "zed"]
REPORTERS = ["alice", "bob", "erin"]
ADAMS_CASE = 7
QUEUE_LINK = re.compile(r'<a href="/g/\d+/cases/(\d+)">#(\d+)</a>')


async def nine_cases(vigil: Vigil) -> None:
    await vigil.setup(threshold=1)
    for n, target in enumerate(TARGETS):
        reporter = REPORTERS[n % 3] if REPORTERS[n % 3] != target else "carol"
        await vigil.report(reporter, target, "harassment", details=f"about {target}")
    await wait_rows(vigil, "SELECT COUNT(*) FROM cases", [(9,)])


def listed(content: str) -> list[int]:
    return [int(n) for n in re.findall(r"\*\*#(\d+)\*\*", content)]


async def test_reports_queue_never_lists_or_counts_the_viewers_own_case(vigil: Vigil):
    await nine_cases(vigil)
    adam = vigil.world.users["adam"]
    # Another manager sees all nine, on two pages.
    olivia = await vigil.slash("reports queue", "olivia")
    assert "(9) · page 1 of 2" in olivia.content and len(listed(olivia.content)) == 8
    page_two = await press(vigil, olivia.original(), "vigil:queue:2", "olivia")
    assert listed(page_two.data["content"]) == [9]
    assert ADAMS_CASE in listed(olivia.content) and f"<@{adam.id}>" in olivia.content

    # adam sees the eight others, on one page: his case is neither listed nor counted.
    mine = await vigil.slash("reports queue", "adam")
    assert mine.ephemeral and "(8) · page 1 of 1" in mine.content
    assert sorted(listed(mine.content)) == [1, 2, 3, 4, 5, 6, 8, 9]
    assert f"<@{adam.id}>" not in mine.content and str(adam.id) not in str(mine.data)
    assert mine.components == []  # one page: no buttons that would hint at more
    # A page button pressed by him (another manager's, or forged) carries no trust.
    for page in (1, 2):
        pressed = await press(vigil, olivia.original(), f"vigil:queue:{page}", "adam")
        content = pressed.data["content"]
        assert ADAMS_CASE not in listed(content) and str(adam.id) not in content
        assert "(8) · page 1 of 1" in content

    # His reporter's history and the team's figures name nothing of his case.
    history = await vigil.slash("reports history", "adam", member="alice")
    text = result_text(history) + str(history.data)
    assert str(adam.id) not in text and "about adam" not in text
    stats = await vigil.slash("reports stats", "adam")
    await stats.wait_followup(timeout=15)
    figures = "\n".join(m.get("content") or "" for m in stats.followups)
    assert "9 open or acknowledged" in figures  # a team count, as for every manager
    assert str(adam.id) not in figures and "#7" not in figures and "adam" not in figures.lower()
    # And the case itself stays refused to him.
    own = await vigil.slash("reports case", "adam", number=ADAMS_CASE)
    assert "is about you" in result_text(own) and "about adam" not in result_text(own)


async def test_the_dashboard_queue_never_lists_or_counts_the_viewers_own_case(
    emulator, bot_factory, tmp_path, database_url
):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await nine_cases(vigil)
    guild = vigil.guild.id
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        status, queue, _ = await olivia.get(f"/g/{guild}/queue")
        assert status == 200 and "9 open or acknowledged" in html.unescape(queue)
        assert ADAMS_CASE in [int(n) for n, _ in QUEUE_LINK.findall(queue)]
    async with browser(base) as adam:
        await adam.sign_in(vigil, "adam")
        for path in (f"/g/{guild}/queue", f"/g/{guild}/queue?page=2"):
            status, queue, _ = await adam.get(path)
            text = html.unescape(queue)
            assert status == 200 and "8 open or acknowledged" in text, path
            numbers = sorted(int(n) for n, _ in QUEUE_LINK.findall(queue))
            assert numbers == [1, 2, 3, 4, 5, 6, 8, 9], path
            assert f">#{ADAMS_CASE}<" not in queue and f"#{ADAMS_CASE}\n" not in queue
            assert "about adam" not in text
        status, stats, _ = await adam.get(f"/g/{guild}/stats")
        assert status == 200 and f"#{ADAMS_CASE}" not in stats
        status, case, _ = await adam.get(f"/g/{guild}/cases/{ADAMS_CASE}")
        assert status == 403 and "about adam" not in case
