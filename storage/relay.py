"""SQL for the relay between moderators and reporters, and for the case feed (what still has to
go into a case's thread). Texts only: a question, an answer, details; never media."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from core.models import DeliveryState, FeedItem, GuildScope, RelayKind, RelayMessage
from core.ports import NewRelayMessage
from storage.codec import from_db, to_db
from storage.leases import advisory_key
from storage.scope import scope_conditions
from storage.sql import Executor

_COLUMNS = (
    "id, guild_id, case_id, report_id, reporter_id, author_id, kind, question_id, text, state, "
    "created_at, dm_channel_id, dm_message_id"
)
_COUNTED = tuple(s.value for s in DeliveryState if s.counts_toward_limit)


def _message(row: Any) -> RelayMessage:
    return RelayMessage(
        id=int(row[0]),
        guild_id=int(row[1]),
        case_id=row[2],
        report_id=row[3],
        reporter_id=int(row[4]),
        author_id=int(row[5]),
        kind=RelayKind(row[6]),
        question_id=row[7],
        text=row[8],
        state=DeliveryState(row[9]),
        created_at=from_db(row[10]),
        dm_channel_id=row[11],
        dm_message_id=row[12],
    )


def _item(row: Any) -> FeedItem:
    return FeedItem(
        id=int(row[0]), case_id=int(row[1]), guild_id=int(row[2]), event_id=row[3], relay_id=row[4]
    )


class RelayRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def lock_case(self, case_id: int) -> None:
        """Serialise relay transactions on one case across processes (until commit). SQLite
        needs nothing: BEGIN IMMEDIATE already admits one writer at a time."""
        if self._db.dialect == "postgresql":
            await self._db.fetch_one(
                "SELECT pg_advisory_xact_lock(?)", (advisory_key("relay", case_id),)
            )

    async def _insert(self, message: NewRelayMessage, conflict: str = "") -> int | None:
        row = await self._db.fetch_one(
            "INSERT INTO relay_messages (guild_id, case_id, report_id, reporter_id, author_id, "
            "kind, question_id, text, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"{conflict} RETURNING id",
            (
                message.guild_id,
                message.case_id,
                message.report_id,
                message.reporter_id,
                message.author_id,
                message.kind,
                message.question_id,
                message.text,
                message.state,
                to_db(message.created_at),
            ),
        )
        return int(row[0]) if row else None

    async def add(self, message: NewRelayMessage, *, feed: bool = True) -> int:
        relay_id = await self._insert(message)
        assert relay_id is not None
        if feed:
            await self.queue(relay_id, message.created_at)
        return relay_id

    async def add_answer(self, message: NewRelayMessage) -> int | None:
        # The partial unique index (one answer per question) decides, in any process.
        relay_id = await self._insert(
            message, "ON CONFLICT (question_id) WHERE kind = 'answer' DO NOTHING"
        )
        if relay_id is not None:
            await self.queue(relay_id, message.created_at)
        return relay_id

    async def get(self, relay_id: int) -> RelayMessage | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM relay_messages WHERE id = ?", (relay_id,)
        )
        return _message(row) if row else None

    async def for_case(self, case_id: int) -> list[RelayMessage]:
        """The case's questions, answers, additions and stops, oldest first (its record)."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM relay_messages WHERE case_id = ? ORDER BY created_at, id",
            (case_id,),
        )
        return [_message(r) for r in rows]

    async def answered(self, question_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM relay_messages WHERE question_id = ? AND kind = 'answer'",
            (question_id,),
        )
        return row is not None

    async def set_delivery(
        self, question_id: int, state: str, dm_channel_id: int | None, dm_message_id: int | None
    ) -> None:
        await self._db.execute(
            "UPDATE relay_messages SET state = ?, dm_channel_id = ?, dm_message_id = ? "
            "WHERE id = ? AND kind = 'question'",
            (state, dm_channel_id, dm_message_id, question_id),
        )

    async def settle_unconfirmed(
        self, question_id: int, state: str, dm_channel_id: int | None, dm_message_id: int | None
    ) -> bool:
        """`set_delivery` only while the question is still unconfirmed: of two processes that
        find it, one settles it."""
        return (
            await self._db.execute(
                "UPDATE relay_messages SET state = ?, dm_channel_id = ?, dm_message_id = ? "
                "WHERE id = ? AND kind = 'question' AND state = ?",
                (state, dm_channel_id, dm_message_id, question_id, DeliveryState.SENDING.value),
            )
            == 1
        )

    async def unconfirmed_questions(self, before: datetime, limit: int) -> list[RelayMessage]:
        """Questions stored before `before` whose DM was never confirmed, oldest first. Few
        rows ever match (a question is settled within seconds unless its process died), and
        questions are rate limited per case, so the scan needs no index of its own."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM relay_messages WHERE kind = 'question' AND state = ? "
            "AND created_at < ? ORDER BY id LIMIT ?",
            (DeliveryState.SENDING.value, to_db(before), limit),
        )
        return [_message(r) for r in rows]

    async def queue(self, relay_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO case_feed (guild_id, case_id, relay_id, created_at) "
            "SELECT guild_id, case_id, id, ? FROM relay_messages "
            "WHERE id = ? AND case_id IS NOT NULL",
            (to_db(now), relay_id),
        )

    async def questions_since(self, case_id: int, since: datetime) -> list[datetime]:
        marks = ", ".join("?" for _ in _COUNTED)
        rows = await self._db.fetch_all(
            "SELECT created_at FROM relay_messages WHERE case_id = ? AND kind = 'question' "
            f"AND created_at >= ? AND state IN ({marks})",
            (case_id, to_db(since), *_COUNTED),
        )
        return [from_db(r[0]) for r in rows]

    async def details_since(self, report_id: int, since: datetime) -> list[datetime]:
        rows = await self._db.fetch_all(
            "SELECT created_at FROM relay_messages WHERE report_id = ? AND kind = 'details' "
            "AND created_at >= ?",
            (report_id, to_db(since)),
        )
        return [from_db(r[0]) for r in rows]

    async def opted_out(self, case_id: int, reporter_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM relay_optouts WHERE case_id = ? AND reporter_id = ?",
            (case_id, reporter_id),
        )
        return row is not None

    async def opt_out(self, case_id: int, reporter_id: int, guild_id: int, now: datetime) -> bool:
        changed = await self._db.execute(
            "INSERT INTO relay_optouts (case_id, reporter_id, guild_id, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (case_id, reporter_id) DO NOTHING",
            (case_id, reporter_id, guild_id, to_db(now)),
        )
        return changed == 1

    async def attach_to_case(self, case_id: int, now: datetime) -> int:
        waiting = (
            "case_id IS NULL AND kind = 'details' AND report_id IN "
            "(SELECT id FROM reports WHERE case_id = ?)"
        )
        await self._db.execute(
            "INSERT INTO case_feed (guild_id, case_id, relay_id, created_at) "
            f"SELECT guild_id, ?, id, ? FROM relay_messages WHERE {waiting} ORDER BY id",
            (case_id, to_db(now), case_id),
        )
        return await self._db.execute(
            f"UPDATE relay_messages SET case_id = ? WHERE {waiting}", (case_id, case_id)
        )

    async def pending_feed(
        self, limit: int, exclude: Collection[int] = (), scope: GuildScope | None = None
    ) -> list[FeedItem]:
        """Oldest first; `exclude`: cases waiting for a retry; `scope`: the servers the
        reading process serves (other processes' items never fill its batch)."""
        where, params = scope_conditions("f.guild_id", scope)
        if exclude:
            where.append(f"f.case_id NOT IN ({', '.join('?' for _ in exclude)})")
            params += tuple(exclude)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = await self._db.fetch_all(
            "SELECT f.id, f.case_id, f.guild_id, f.event_id, f.relay_id FROM case_feed AS f "
            f"{clause}ORDER BY f.id LIMIT ?",
            (*params, limit),
        )
        return [_item(r) for r in rows]

    async def feed_for_case(self, case_id: int, limit: int) -> list[FeedItem]:
        rows = await self._db.fetch_all(
            "SELECT id, case_id, guild_id, event_id, relay_id FROM case_feed WHERE case_id = ? "
            "ORDER BY id LIMIT ?",
            (case_id, limit),
        )
        return [_item(r) for r in rows]

    async def feed_done(self, feed_id: int) -> bool:
        return await self._db.execute("DELETE FROM case_feed WHERE id = ?", (feed_id,)) == 1

    async def mark_posted(self, relay_id: int, channel_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE relay_messages SET posted_channel_id = ?, posted_message_id = ? WHERE id = ?",
            (channel_id, message_id, relay_id),
        )
