"""Alert delivery: one post per case, edits afterwards, retries that never duplicate."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.alert_view import AlertContent
from core.models import GuildSettings
from core.outbox import AlertDispatcher, DeliveryFailed, alert_nonce
from core.policy import RateLimit
from core.reasons import Reason
from core.service import CaseService, ReportService
from storage.sqlite import SqliteStore
from tests.helpers import GUILD, clock, submission

CHANNEL = 777


@dataclass
class FakePoster:
    fail_next: list[DeliveryFailed] = field(default_factory=list)
    posts: list[tuple[int, str, AlertContent]] = field(default_factory=list)
    edits: list[tuple[int, int, AlertContent]] = field(default_factory=list)
    next_id: int = 1000

    async def post(self, channel_id: int, content: AlertContent, nonce: str) -> int:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.next_id += 1
        self.posts.append((channel_id, nonce, content))
        return self.next_id

    async def edit(self, channel_id: int, message_id: int, content: AlertContent) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.edits.append((channel_id, message_id, content))


async def setup(
    store: SqliteStore, poster: FakePoster, configured: bool = True, edit_interval: float = 0.0
):
    c = clock()
    cases = CaseService(store, c)
    dispatcher = AlertDispatcher(
        store, cases, poster, base_delay=0.0, max_delay=0.0, edit_interval=edit_interval
    )
    reports = ReportService(store, c, RateLimit(), on_alert_change=dispatcher.wake)
    if configured:
        settings = GuildSettings(GUILD, alert_channel_id=CHANNEL)
        await store.write(lambda tx: tx.settings.save(settings, c.now()))
    return reports, dispatcher


async def test_one_post_then_edits(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    outcome = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and poster.edits == []
    assert poster.posts[0][1] == alert_nonce(outcome.case_id)
    await reports.submit(submission(2, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and len(poster.edits) == 1
    assert poster.edits[0][1] == 1001
    assert await store.read(lambda tx: tx.cases.with_pending_alerts(10)) == []


async def test_failed_posts_are_retried_without_duplicates(store):
    poster = FakePoster(fail_next=[DeliveryFailed("500"), DeliveryFailed("403")])
    reports, dispatcher = await setup(store, poster)
    await reports.submit(submission(1, reason=Reason.SELF_HARM))
    await dispatcher.drain_once()
    assert poster.posts == [] and "403" not in dispatcher.problems().values()
    await dispatcher.drain_once()
    assert dispatcher.problems()  # the admin can see why
    await dispatcher.drain_once()
    assert len(poster.posts) == 1
    assert dispatcher.problems() == {}
    await dispatcher.drain_once()
    assert len(poster.posts) == 1


async def test_deleted_alert_is_posted_again(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    await reports.submit(submission(1, reason=Reason.VIOLENT_THREAT))
    await dispatcher.drain_once()
    poster.fail_next.append(DeliveryFailed("gone", message_gone=True))
    await reports.submit(submission(2, reason=Reason.VIOLENT_THREAT))
    await dispatcher.drain_once()
    assert len(poster.posts) == 2 and poster.posts[1][1] != poster.posts[0][1]


async def test_alert_waits_for_setup(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster, configured=False)
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert poster.posts == []
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL)
    await store.write(lambda tx: tx.settings.save(settings, clock().now()))
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and poster.posts[0][0] == CHANNEL


async def test_edits_are_coalesced_but_first_posts_are_not(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster, edit_interval=60.0)
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    for n in (2, 3, 4):
        await reports.submit(submission(n, reason=Reason.CHILD_SAFETY))
        delay = await dispatcher.drain_once()
    assert len(poster.posts) == 1 and poster.edits == []  # edits wait for the interval
    assert 0 < delay <= 60.0
    await reports.submit(submission(5, target=77, reason=Reason.SELF_HARM))
    await dispatcher.drain_once()
    assert len(poster.posts) == 2  # a new case's alert goes out at once
