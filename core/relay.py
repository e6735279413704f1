"""Ask the reporter (issue 15): moderators question a case's reporter through Vigil, both sides
anonymous, and reporters answer, add details to their report, or ask for no more messages.

A question goes by DM as "the moderators of {server}", never naming the moderator; the answer
goes to the case's thread as "Reporter 2 answered", never naming the reporter. Reporters are
numbered as the alert lists them (`reporter_order`). Everything is stored first (the question,
then whether it was delivered; an answer before the reporter is thanked) and posted by the case
feed (core/case_feed.py), once, whichever process runs it.

Limits, so reporters are never pressed: at most QUESTIONS_PER_HOUR questions per case in any
hour (all moderators together; undelivered questions don't count), one answer per question,
and DETAILS_PER_HOUR additions per report. A reporter who chose "Stop messages about this
report" is never asked about that case again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.models import AlertData, DeliveryState, RelayKind, RelayMessage, Report
from core.outcomes import Vocabulary
from core.ports import NewRelayMessage, Store, UnitOfWork
from core.reasons import Reason
from core.service import CaseActionRefused, CaseRefusal, OwnCaseRefused
from core.snowflakes import is_storable_id
from core.text import clean_user_text

QUESTIONS_PER_HOUR = 3
DETAILS_PER_HOUR = 3
RELAY_WINDOW = timedelta(hours=1)
#: A question whose DM is still unconfirmed this long after it was stored was left by a
#: process that died between storing and sending it (a send takes seconds, retries included).
UNCONFIRMED_AFTER = timedelta(minutes=5)

#: What sending a question's DM gave: its delivery state, and the DM's channel and message.
Sent = tuple[DeliveryState, int | None, int | None]

log = logging.getLogger(__name__)
MAX_RELAY_TEXT = 1000  # a question, an answer or added details (the stored column's limit)


class RelayRefusal(Vocabulary):
    """Why a question, answer or addition was not taken (ui/ words each)."""

    CLOSED = "closed"  # the case is resolved or dismissed: no more questions
    OUTDATED = "outdated"  # the form was opened for another target (an old form)
    # The form's "Reporter N" is someone else now: an erasure renumbered the reporters.
    RENUMBERED = "renumbered"
    NO_REPORTER = "no_reporter"  # no such reporter number on the case (any more)
    STOPPED = "stopped"  # the reporter asked for no more messages about this case
    LIMIT = "limit"  # QUESTIONS_PER_HOUR or DETAILS_PER_HOUR reached
    EMPTY = "empty"  # nothing written
    NOT_YOURS = "not_yours"  # a press by someone other than the reporter it was for
    GONE = "gone"  # the question, report or case no longer exists (retention, erasure)
    ANSWERED = "answered"  # this question already has its answer


@dataclass(frozen=True, slots=True)
class RelayRefused:
    code: RelayRefusal
    case_number: int | None = None
    number: int | None = None  # the reporter's number, where it helps the moderator
    next_at: datetime | None = None  # LIMIT: when the next one may go
    # A reporter's own press refused (answered already, a limit): their report's reason and
    # server, so the refusal still carries their help. None for anyone else.
    reason: Reason | None = None
    guild_id: int | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """A stored question, to send by DM now (`RelayService.deliver`)."""

    id: int
    guild_id: int
    case_id: int
    case_number: int
    reporter_id: int
    number: int  # "Reporter 2"
    target_name: str
    text: str
    reason: Reason  # what the reporter reported: their DM carries its help
    thread_id: int | None


@dataclass(frozen=True, slots=True)
class ReporterTurn:
    """A reporter's press or form, checked: theirs, and what it is about (the help they see
    follows `reason`). `question_text` for an Answer, to show what they answer."""

    guild_id: int
    case_id: int | None
    reason: Reason
    question_text: str | None = None


def reporter_order(reports: Iterable[Report]) -> list[int]:
    """A case's reporters in the order the alert lists them (first report first): Reporter 1
    is the first of the list. `reports` in the case's order (oldest first)."""
    return list(dict.fromkeys(r.reporter_id for r in reports))


def reporter_tag(case_id: int, reporter_id: int) -> str:
    """Who "Reporter N" was when a form listed them, without naming them: an erasure
    renumbers a case's reporters, and a question written for one (perhaps quoting them) must
    never reach whoever has that number by the time it is sent."""
    return hashlib.sha256(f"{case_id}:{reporter_id}".encode()).hexdigest()[:12]


def reporter_number(reports: Iterable[Report], reporter_id: int) -> int | None:
    order = reporter_order(reports)
    return order.index(reporter_id) + 1 if reporter_id in order else None


def reporter_reason(reports: Iterable[Report], reporter_id: int) -> Reason:
    """The reason of a reporter's reports in a case, the most critical first (their help)."""
    theirs = sorted(
        (r.reason for r in reports if r.reporter_id == reporter_id),
        key=lambda reason: not reason.is_critical,
    )
    return theirs[0] if theirs else Reason.OTHER


@dataclass(frozen=True, slots=True)
class RelayEntry:
    """One step of a case's reporter Q&A as the record views show it (the dashboard's
    timeline, `/reports case`, the escalation packet): the reporter only by their number, as
    the alert numbers them; the moderator who asked, for a question (moderators may see
    that); user text as it was written (each view escapes or neutralises it)."""

    id: int
    at: datetime
    kind: RelayKind
    reporter: int  # "Reporter 2"
    moderator_id: int | None  # who asked: a question only
    text: str | None
    delivery: DeliveryState | None  # a question's: delivered, DMs closed, failed, not yet known
    question_id: int | None  # an answer's question


def relay_story(data: AlertData) -> list[RelayEntry]:
    """The case's relay messages (`data.relay`, read with the case's story), oldest first,
    each reporter by their number. A message whose reporter has no report in the case any
    more (erased) is left out, as the case feed leaves it out of the thread."""
    order = reporter_order(data.reports)
    entries: list[RelayEntry] = []
    for message in sorted(data.relay, key=lambda m: (m.created_at, m.id)):
        if message.reporter_id not in order:
            continue
        question = message.kind is RelayKind.QUESTION
        entries.append(
            RelayEntry(
                id=message.id,
                at=message.created_at,
                kind=message.kind,
                reporter=order.index(message.reporter_id) + 1,
                moderator_id=message.author_id if question else None,
                text=message.text,
                delivery=message.state if question else None,
                question_id=message.question_id if message.kind is RelayKind.ANSWER else None,
            )
        )
    return entries


def next_allowed(times: list[datetime]) -> datetime | None:
    """When the oldest of the window's counted messages leaves it (None: no limit yet)."""
    return min(times) + RELAY_WINDOW if times else None


class RelayService:
    def __init__(
        self, store: Store, clock: Clock, on_change: Callable[[], None] | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        # Something is waiting for the case feed (core/case_feed.py) to post.
        self._on_change = on_change or (lambda: None)

    async def ask(
        self,
        guild_id: int,
        case_id: int,
        target_id: int | None,
        actor_id: int,
        number: int,
        text: str | None,
        tag: str | None = None,
    ) -> Question | RelayRefused:
        """Store a moderator's question to Reporter `number`, if it may go: raises
        CaseActionRefused for a case not of this server or about the moderator themselves (a
        reported moderator cannot question their reporters); returns RelayRefused otherwise.
        `tag`: reporter_tag of the reporter the form listed as that number (RENUMBERED if
        that number is someone else now). The case is locked, so the hour's limit holds across
        processes."""
        cleaned = clean_user_text(text, MAX_RELAY_TEXT)
        if not is_storable_id(case_id):
            raise CaseActionRefused(CaseRefusal.NO_CASE)
        now = self._clock.now()

        async def store(tx: UnitOfWork) -> Question | RelayRefused:
            await tx.relay.lock_case(case_id)
            case = await tx.cases.get(case_id)
            if case is None or case.guild_id != guild_id:
                raise CaseActionRefused(CaseRefusal.NO_CASE)
            if case.target_id == actor_id:
                raise OwnCaseRefused(CaseRefusal.OWN_CASE, case=case)
            if target_id is not None and case.target_id != target_id:
                return RelayRefused(RelayRefusal.OUTDATED, case.number)
            if not case.status.is_active:
                return RelayRefused(RelayRefusal.CLOSED, case.number)
            if cleaned is None:
                return RelayRefused(RelayRefusal.EMPTY, case.number)
            reports = await tx.reports.for_case(case_id)
            order = reporter_order(reports)
            if not 1 <= number <= len(order):
                return RelayRefused(RelayRefusal.NO_REPORTER, case.number, number)
            reporter_id = order[number - 1]
            if tag is not None and tag != reporter_tag(case_id, reporter_id):
                return RelayRefused(RelayRefusal.RENUMBERED, case.number, number)
            if await tx.relay.opted_out(case_id, reporter_id):
                return RelayRefused(RelayRefusal.STOPPED, case.number, number)
            asked = await tx.relay.questions_since(case_id, now - RELAY_WINDOW)
            if len(asked) >= QUESTIONS_PER_HOUR:
                return RelayRefused(RelayRefusal.LIMIT, case.number, number, next_allowed(asked))
            question_id = await tx.relay.add(
                NewRelayMessage(
                    guild_id=guild_id,
                    case_id=case_id,
                    report_id=None,
                    reporter_id=reporter_id,
                    author_id=actor_id,
                    kind=RelayKind.QUESTION.value,
                    text=cleaned,
                    state=DeliveryState.SENDING.value,
                    created_at=now,
                ),
                feed=False,  # it goes to the thread once its delivery is known
            )
            return Question(
                id=question_id,
                guild_id=guild_id,
                case_id=case_id,
                case_number=case.number,
                reporter_id=reporter_id,
                number=number,
                target_name=case.target_name,
                text=cleaned,
                reason=reporter_reason(reports, reporter_id),
                thread_id=case.thread,
            )

        return await self._store.write(store)

    async def deliver(
        self, question: Question, send: Callable[[Question], Awaitable[Sent]]
    ) -> Sent:
        """Send a stored question (`send`: its DM) and record what happened, holding the
        question's claim throughout: the look for questions a dead process left unconfirmed
        (`settle_unconfirmed`) never judges one whose process is alive and still sending,
        however long Discord takes. Returns what `send` returned."""
        async with self._store.claim(f"question:{question.id}"):
            sent = await send(question)
            await self.question_sent(question, *sent)
        return sent

    async def question_sent(
        self,
        question: Question,
        state: DeliveryState,
        dm_channel_id: int | None = None,
        dm_message_id: int | None = None,
    ) -> None:
        """Record whether the question's DM was delivered (and where, for an erasure), and
        queue it for the case's thread, with that outcome (see `_record`)."""
        where = (
            None
            if dm_channel_id is None or dm_message_id is None
            else (dm_channel_id, dm_message_id)
        )
        await self._record(question.guild_id, question.id, state, where)

    async def settle_unconfirmed(
        self,
        older_than: timedelta,
        find_dm: Callable[[RelayMessage], Awaitable[tuple[int, int] | None]],
        limit: int = 20,
    ) -> list[tuple[int, DeliveryState]]:
        """Questions left unconfirmed by a process that died between storing and sending
        them, settled: SENT (and where, so an erasure can delete it) when `find_dm` finds the
        DM in the reporter's DM channel, FAILED when not. Never sent again: the moderator who
        asked was never told it went and may have asked again since; a question arriving
        minutes late, perhaps twice, would press the reporter. They see it as not delivered
        and may ask again (an undelivered question does not count toward the hour's limit).

        A live process holds its question's claim until it has recorded it (`deliver`), so
        only an abandoned one is claimed here, by one process; the record is a compare-and-set
        queued once for the case's thread. A question whose lookup fails (Discord unreachable)
        is logged and left for the next look; the others are still settled. Returns what was
        settled."""
        before = self._clock.now() - older_than
        questions = await self._store.read(lambda tx: tx.relay.unconfirmed_questions(before, limit))
        settled: list[tuple[int, DeliveryState]] = []
        for question in questions:
            try:
                state = await self._settle_one(question, find_dm)
            except Exception:
                log.exception("unconfirmed question %s not settled; looked for again", question.id)
                continue
            if state is not None:
                settled.append((question.id, state))
        return settled

    async def _settle_one(
        self,
        question: RelayMessage,
        find_dm: Callable[[RelayMessage], Awaitable[tuple[int, int] | None]],
    ) -> DeliveryState | None:
        async with self._store.claim(f"question:{question.id}") as mine:
            if not mine:
                return None  # its process is still sending it, or another one settles it
            current = await self._store.read(lambda tx: tx.relay.get(question.id))
            if current is None or current.state is not DeliveryState.SENDING:
                return None  # settled (or erased) since the list was read
            where = await find_dm(question)
            state = DeliveryState.SENT if where else DeliveryState.FAILED
            settled = await self._record(question.guild_id, question.id, state, where)
            return state if settled else None

    async def _record(
        self, guild_id: int, question_id: int, state: DeliveryState, where: tuple[int, int] | None
    ) -> bool:
        """A question's delivery, recorded once and queued once for the case's thread: only
        while it is unconfirmed (compare-and-set). Otherwise the truth still wins where it
        matters: a DM that did go, found settled as undelivered (its process's claim went
        with its database session), is recorded as sent and the thread told; a DM that went
        for a question erased meanwhile is queued for deletion from Discord. True: recorded."""
        now = self._clock.now()

        async def record(tx: UnitOfWork) -> bool:
            channel_id, message_id = where or (None, None)
            if await tx.relay.settle_unconfirmed(question_id, state.value, channel_id, message_id):
                await tx.relay.queue(question_id, now)
                return True
            current = await tx.relay.get(question_id)
            if current is None:
                if where is not None:
                    await tx.guild_data.queue_message_cleanup(guild_id, *where, now)
                return False
            if state is DeliveryState.SENT and current.state is not DeliveryState.SENT:
                await tx.relay.set_delivery(question_id, state.value, channel_id, message_id)
                await tx.relay.queue(question_id, now)
                return True
            return False

        recorded = await self._store.write(record)
        if recorded:
            self._on_change()
        return recorded

    async def check_question(self, question_id: int, user_id: int) -> ReporterTurn | RelayRefused:
        """An Answer button's press: only the reporter it was sent to, about a case that still
        exists, and only until the question has its answer."""
        if not is_storable_id(question_id):
            return RelayRefused(RelayRefusal.GONE)

        async def load(tx: UnitOfWork) -> ReporterTurn | RelayRefused:
            return await _question_turn(tx, question_id, user_id)

        return await self._store.read(load)

    async def answer(
        self, question_id: int, user_id: int, text: str | None
    ) -> ReporterTurn | RelayRefused:
        """Store the reporter's answer (one per question, whichever process gets it first) and
        queue it for the case's thread."""
        cleaned = clean_user_text(text, MAX_RELAY_TEXT)
        if not is_storable_id(question_id):
            return RelayRefused(RelayRefusal.GONE)
        now = self._clock.now()

        async def store(tx: UnitOfWork) -> ReporterTurn | RelayRefused:
            turn = await _question_turn(tx, question_id, user_id)
            if isinstance(turn, RelayRefused):
                return turn
            if cleaned is None:
                return refused_for(turn, RelayRefusal.EMPTY)
            answer_id = await tx.relay.add_answer(
                _from_reporter(
                    RelayKind.ANSWER, turn, user_id, now, text=cleaned, question_id=question_id
                )
            )
            return turn if answer_id is not None else refused_for(turn, RelayRefusal.ANSWERED)

        outcome = await self._store.write(store)
        if isinstance(outcome, ReporterTurn):
            self._on_change()
        return outcome

    async def stop(self, question_id: int, user_id: int) -> ReporterTurn | RelayRefused:
        """The reporter chose "Stop messages about this report": never asked about this case
        again; the thread is told once (pressing again changes nothing)."""
        if not is_storable_id(question_id):
            return RelayRefused(RelayRefusal.GONE)
        now = self._clock.now()
        told = False

        async def store(tx: UnitOfWork) -> ReporterTurn | RelayRefused:
            nonlocal told
            turn = await _question_turn(tx, question_id, user_id, answered_ok=True)
            if isinstance(turn, RelayRefused):
                return turn
            assert turn.case_id is not None
            # As `ask` does: a question being decided on this case (it read "not stopped")
            # commits first, or reads this stop; never a question stored after the stop.
            await tx.relay.lock_case(turn.case_id)
            turn = await _question_turn(tx, question_id, user_id, answered_ok=True)
            if isinstance(turn, RelayRefused):  # erased while this waited for the lock
                return turn
            assert turn.case_id is not None
            if await tx.relay.opt_out(turn.case_id, user_id, turn.guild_id, now):
                await tx.relay.add(_from_reporter(RelayKind.STOPPED, turn, user_id, now))
                told = True
            return turn

        outcome = await self._store.write(store)
        if told:
            self._on_change()
        return outcome

    async def check_report(
        self, report_id: int, user_id: int, guild_id: int | None
    ) -> ReporterTurn | RelayRefused:
        """An Add details press: only the report's own reporter, in its server."""
        if not is_storable_id(report_id):
            return RelayRefused(RelayRefusal.GONE)

        async def load(tx: UnitOfWork) -> ReporterTurn | RelayRefused:
            return _report_turn(await tx.reports.get(report_id), user_id, guild_id)

        return await self._store.read(load)

    async def add_details(
        self, report_id: int, user_id: int, guild_id: int | None, text: str | None
    ) -> ReporterTurn | RelayRefused:
        """Keep what a reporter adds to their report. In a case, it goes to the case's thread;
        a report not in a case keeps it until a case opens (then it goes there too). The
        report's target is locked, as a report's transaction does, so a case opening at the
        same moment cannot miss it."""
        cleaned = clean_user_text(text, MAX_RELAY_TEXT)
        if not is_storable_id(report_id):
            return RelayRefused(RelayRefusal.GONE)
        now = self._clock.now()

        async def store(tx: UnitOfWork) -> ReporterTurn | RelayRefused:
            report = await tx.reports.get(report_id)
            turn = _report_turn(report, user_id, guild_id)
            if isinstance(turn, RelayRefused) or report is None:
                return turn
            await tx.cases.lock_target(report.guild_id, report.target_id)
            report = await tx.reports.get(report_id)  # its case, as of the lock
            if report is None:
                return RelayRefused(RelayRefusal.GONE)
            turn = ReporterTurn(report.guild_id, report.case_id, report.reason)
            if cleaned is None:
                return refused_for(turn, RelayRefusal.EMPTY)
            added = await tx.relay.details_since(report_id, now - RELAY_WINDOW)
            if len(added) >= DETAILS_PER_HOUR:
                return refused_for(turn, RelayRefusal.LIMIT, next_allowed(added))
            await tx.relay.add(
                _from_reporter(
                    RelayKind.DETAILS, turn, user_id, now, text=cleaned, report_id=report_id
                )
            )
            return turn

        outcome = await self._store.write(store)
        if isinstance(outcome, ReporterTurn):
            self._on_change()
        return outcome


def _from_reporter(
    kind: RelayKind,
    turn: ReporterTurn,
    user_id: int,
    now: datetime,
    *,
    text: str | None = None,
    report_id: int | None = None,
    question_id: int | None = None,
) -> NewRelayMessage:
    """What a reporter adds (an answer, details, "stop messages"): theirs, kept as it is,
    nothing to deliver."""
    return NewRelayMessage(
        guild_id=turn.guild_id,
        case_id=turn.case_id,
        report_id=report_id,
        reporter_id=user_id,
        author_id=user_id,
        kind=kind.value,
        text=text,
        state=DeliveryState.KEPT.value,
        created_at=now,
        question_id=question_id,
    )


async def _question_turn(
    tx: UnitOfWork, question_id: int, user_id: int, *, answered_ok: bool = False
) -> ReporterTurn | RelayRefused:
    question = await tx.relay.get(question_id)
    if question is None or question.kind is not RelayKind.QUESTION or question.case_id is None:
        return RelayRefused(RelayRefusal.GONE)
    if question.reporter_id != user_id:
        return RelayRefused(RelayRefusal.NOT_YOURS)
    if await tx.cases.get(question.case_id) is None:
        return RelayRefused(RelayRefusal.GONE)
    reports = await tx.reports.for_case(question.case_id)
    turn = ReporterTurn(
        question.guild_id,
        question.case_id,
        reporter_reason(reports, user_id),
        question.text,
    )
    if not answered_ok and await tx.relay.answered(question_id):
        return refused_for(turn, RelayRefusal.ANSWERED)
    return turn


def refused_for(
    turn: ReporterTurn, code: RelayRefusal, next_at: datetime | None = None
) -> RelayRefused:
    """A reporter's own press, refused: with their reason and server (their help)."""
    return RelayRefused(code, next_at=next_at, reason=turn.reason, guild_id=turn.guild_id)


def _report_turn(
    report: Report | None, user_id: int, guild_id: int | None
) -> ReporterTurn | RelayRefused:
    if report is None or (guild_id is not None and report.guild_id != guild_id):
        return RelayRefused(RelayRefusal.GONE)
    if report.reporter_id != user_id:
        return RelayRefused(RelayRefusal.NOT_YOURS)
    return ReporterTurn(report.guild_id, report.case_id, report.reason)
