"""The words of a case's thread and of the relay (issue 15), as plain text: what moderators read
in the thread and in their answers, and what a reporter reads in a question's DM.

User text (a note, a question, an answer, details) is never part of Vigil's own line: it is
returned apart, neutralised (no markdown, links or mentions), for an embed of its own, so it
can neither ping nor pose as one of Vigil's lines. Reporters appear only as "Reporter 2".
"""

from __future__ import annotations

from core.case_feed import FeedKind, FeedPost
from core.i18n import tr
from core.models import DeliveryState, RelayKind
from core.relay import DETAILS_PER_HOUR, QUESTIONS_PER_HOUR, RelayRefusal, RelayRefused
from core.text import neutralise, safe_name, trim
from ui.alert_view import describe_event
from ui.markup import mention_channel, mention_user, relative
from ui.relay_lines import relay_line

THREAD_NAME_LIMIT = 100
QUOTE_LIMIT = 4000  # an embed's description holds 4096


def thread_name(case_number: int, locale: str | None) -> str:
    """The thread's name: the case's number only (no member's name in a channel list)."""
    return tr("thread.name", locale, number=case_number)[:THREAD_NAME_LIMIT]


def quoted(text: str | None) -> str | None:
    """User text as shown under Vigil's line: neutralised, line breaks kept, bounded."""
    if not text:
        return None
    return trim(neutralise(text, multiline=True).strip(), QUOTE_LIMIT) or None


def render_feed_post(post: FeedPost) -> tuple[str, str | None]:
    """A thread post: Vigil's line, and the user text that goes with it (None: none)."""
    locale, kind = post.locale, post.kind
    who = mention_user(post.actor_id) if post.actor_id else tr("alert.a_moderator", locale)
    reporter = post.reporter_number
    if kind is FeedKind.EVENT and post.event is not None:
        return "🔹 " + describe_event(post.event, locale), None
    if kind is FeedKind.NOTE:
        return tr("feed.note", locale, who=who), quoted(post.text)
    relay = RelayKind(kind.value)
    line = relay_line(relay, reporter, who, post.delivery, locale)
    return line, None if relay is RelayKind.STOPPED else quoted(post.text)


# --------------------------------------------------------------------------- moderators


def reporter_label(number: int, locale: str | None) -> str:
    """How the relay names a reporter ("Reporter 2"), as numbered on the alert."""
    return tr("relay.reporter_n", locale, number=number)


def render_asked(
    number: int,
    server: str,
    thread_id: int | None,
    locale: str | None,
    *,
    withheld_case: int | None = None,
) -> str:
    """The moderator's answer once the question went: where the answer will appear (in the
    record of `withheld_case` only, when that case's alert is withheld: core/outbox.WITHHELD)."""
    if withheld_case is not None:
        where = tr("relay.where_record", locale, number=withheld_case)
    elif thread_id:
        where = mention_channel(thread_id)
    else:
        where = tr("relay.where_alert", locale)
    return tr("relay.asked", locale, reporter=number, server=safe_name(server), where=where)


def render_not_delivered(number: int, state: DeliveryState, locale: str | None) -> str:
    key = "relay.dms_closed" if state is DeliveryState.DMS_CLOSED else "relay.failed"
    return tr(key, locale, reporter=number)


def describe_relay_refusal(refused: RelayRefused, locale: str | None) -> str:
    """Why a question was not sent, for the moderator (server's language)."""
    number, reporter = refused.case_number, refused.number
    code = refused.code
    if code is RelayRefusal.CLOSED:
        return tr("relay.refused_closed", locale, number=number)
    if code is RelayRefusal.OUTDATED:
        return tr("act.confirmation_outdated", locale, number=number)
    if code is RelayRefusal.RENUMBERED:
        return tr("relay.refused_renumbered", locale, number=number, reporter=reporter)
    if code is RelayRefusal.NO_REPORTER:
        return tr("relay.refused_no_reporter", locale, number=number, reporter=reporter)
    if code is RelayRefusal.STOPPED:
        return tr("relay.refused_stopped", locale, reporter=reporter)
    if code is RelayRefusal.LIMIT:
        when = relative(refused.next_at) if refused.next_at else ""
        return tr("relay.refused_limit", locale, number=number, limit=QUESTIONS_PER_HOUR, when=when)
    return tr("relay.refused_empty", locale)


# --------------------------------------------------------------------------- reporters


def render_question_dm(server: str | None, target_name: str, locale: str | None) -> str:
    """The DM a reporter gets with a question: from "the moderators of {server}", never from
    a moderator by name; the question itself follows in an embed (`quoted`)."""
    guild = safe_name(server) if server else tr("feedback.your_server", locale)
    return "\n".join(
        [
            tr("relay.dm", locale, server=guild, target=safe_name(target_name)),
            tr("relay.dm_how", locale),
        ]
    )


def describe_reporter_refusal(refused: RelayRefused, locale: str | None) -> str:
    """Why a reporter's press or answer changed nothing (their own language)."""
    code = refused.code
    if code is RelayRefusal.NOT_YOURS:
        return tr("relay.not_yours", locale)
    if code is RelayRefusal.ANSWERED:
        return tr("relay.already_answered", locale)
    if code is RelayRefusal.LIMIT:
        when = relative(refused.next_at) if refused.next_at else ""
        return tr("relay.details_limit", locale, limit=DETAILS_PER_HOUR, when=when)
    if code is RelayRefusal.EMPTY:
        return tr("relay.nothing_written", locale)
    return tr("relay.gone", locale)
