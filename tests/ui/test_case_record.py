"""`/reports case` shows the reporter Q&A (t15-followup): as the thread words it, reporters by
number only, user text neutralised and cut short, the newest lines kept, and the whole reply
within Discord's limits however long the exchange; in the server's language. The dashboard
words the same steps from the same keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core.case_feed import FeedKind, FeedPost
from core.models import (
    AlertData,
    DeliveryState,
    GuildSettings,
    RelayKind,
    RelayMessage,
    ReminderKind,
    SentReminder,
)
from core.relay import relay_story
from dashboard import words
from tests.ui.test_rendering import NOW, case, report
from ui import limits, relay_lines
from ui.alert_view import render_alert, render_case_record
from ui.relay_view import render_feed_post

MOD = 4242
QA = "Questions to reporters and their answers"


def message(n: int, kind: RelayKind, reporter: int, text: str | None, **kw) -> RelayMessage:
    return RelayMessage(
        id=n,
        guild_id=1,
        case_id=1,
        report_id=None,
        reporter_id=1000 + reporter,
        author_id=MOD if kind is RelayKind.QUESTION else 1000 + reporter,
        kind=kind,
        question_id=kw.pop("question_id", None),
        text=text,
        state=kw.pop("state", DeliveryState.KEPT),
        created_at=NOW + timedelta(minutes=n),
    )


def story(*relay: RelayMessage) -> AlertData:
    reports = (report(1), report(2))
    return AlertData(case(), GuildSettings(1), reports, 2, relay=relay)


def qa_field(data: AlertData, locale: str | None = None) -> str:
    fields = render_case_record(data, locale)
    found = [f.value for f in fields if f.name == QA or f.name.startswith("Fragen")]
    assert len(found) == 1, [f.name for f in fields]
    return found[0]


def test_the_record_shows_the_exchange_by_number_and_neutralised():
    data = story(
        message(1, RelayKind.QUESTION, 2, "Where?", state=DeliveryState.SENT),
        message(2, RelayKind.ANSWER, 2, "At @everyone <@123> [x](https://evil.example)"),
        message(3, RelayKind.QUESTION, 1, "Safe?", state=DeliveryState.DMS_CLOSED),
        message(4, RelayKind.QUESTION, 1, "Still?", state=DeliveryState.SENDING),
        message(5, RelayKind.DETAILS, 1, "More"),
        message(6, RelayKind.STOPPED, 2, None),
    )
    qa = qa_field(data)
    assert f"<@{MOD}> asked Reporter 2:" in qa and "Reporter 2 answered:" in qa
    assert f"<@{MOD}> asked Reporter 1, but they don't accept direct messages" in qa
    assert "asked Reporter 1: ⏳ delivery not confirmed yet" in qa
    assert "Reporter 1 added details to their report:" in qa
    assert "Reporter 2 asked for no more messages" in qa
    assert "@everyone" not in qa and "<@123>" not in qa and "](https://" not in qa
    for reporter in (1001, 1002):
        assert str(reporter) not in qa
    # A case without any exchange has no such field (the record stays as it was).
    assert all(f.name != QA for f in render_case_record(story()))


def test_a_long_exchange_keeps_its_newest_lines_within_discords_limits():
    relay = [
        message(n, RelayKind.ANSWER if n % 2 else RelayKind.QUESTION, 2, "y" * 1000)
        for n in range(1, 40)
    ]
    data = story(*relay)
    qa = qa_field(data)
    assert len(qa) <= limits.FIELD_VALUE and "y" * 201 not in qa
    assert qa.startswith("(+") and "older" in qa.splitlines()[0]  # says what was left out
    last = relay_lines.relay_line(RelayKind.ANSWER, 2, "", None, None)
    assert last in qa.splitlines()[-2]  # the newest kept
    # The whole reply (the alert's embed and the record's) fits Discord's limits.
    content = render_alert(data)
    embeds = [
        limits.EmbedText(
            content.title,
            content.description,
            tuple((f.name, f.value) for f in content.fields),
            content.footer,
        ),
        limits.EmbedText(
            "record", None, tuple((f.name, f.value) for f in render_case_record(data)), None
        ),
    ]
    fitted = limits.fit_embeds(embeds)
    assert sum(e.size for e in fitted) <= limits.EMBED_TOTAL
    assert any("Reporter 2 answered:" in v for e in fitted for _, v in e.fields)


def test_the_record_in_the_servers_language():
    data = story(message(1, RelayKind.ANSWER, 2, "Dort"))
    fields = render_case_record(data, "de")
    assert any(
        f.name == "Fragen an meldende Personen und ihre Antworten"
        and "Meldende Person 2 hat geantwortet:" in f.value
        for f in fields
    )


def test_the_thread_the_record_and_the_web_word_the_relay_alike():
    assert words.RELAY_KEYS == relay_lines.RELAY_KEYS
    assert words.UNDELIVERED_KEYS == relay_lines.UNDELIVERED_KEYS
    closed = message(1, RelayKind.QUESTION, 2, "Where?", state=DeliveryState.DMS_CLOSED)
    [entry] = relay_story(story(closed))
    web = words.relay_line(entry, "Maya", None)
    thread, _ = render_feed_post(
        FeedPost(
            FeedKind.QUESTION,
            7,
            "en",
            actor_id=MOD,
            reporter_number=2,
            text="Where?",
            delivery=DeliveryState.DMS_CLOSED,
        )
    )
    assert web == thread.replace(f"<@{MOD}>", "Maya")
    assert words.delivery_tag(replace(entry, delivery=DeliveryState.SENT), None) == (
        "delivered by direct message"
    )
    assert words.delivery_tag(entry, None) is None  # its line says it already
    reminder = SentReminder(1, 2, ReminderKind.REMINDER, NOW)
    assert words.reminder_line(reminder, "de").startswith("🔔 Erinnerung 2 von 3")
    owner = words.reminder_line(replace(reminder, number=4, kind=ReminderKind.OWNER), None)
    assert "after 3 reminders" in owner and "owner" in owner
