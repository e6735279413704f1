"""The servers a read of pending work keeps (core.models.GuildScope), as SQL conditions.

One text for both backends: SQLite and PostgreSQL both have `>>` and `%` on 64-bit integers
(a snowflake fits), and every value is a parameter.
"""

from __future__ import annotations

from core.models import GuildScope


def scope_conditions(column: str, scope: GuildScope | None) -> tuple[list[str], tuple[int, ...]]:
    """Conditions (to AND with the query's own) keeping the rows whose server, in `column`,
    is in `scope`, and their parameters. None: every server (no condition). `column` must
    name its table (`c.guild_id`): a bare name would mean the subquery's own column."""
    if scope is None:
        return [], ()
    conditions: list[str] = []
    if not scope.departed:
        left = f"SELECT 1 FROM departed_guilds AS gone WHERE gone.guild_id = {column}"
        conditions.append(f"NOT EXISTS ({left})")
    params: tuple[int, ...] = ()
    if scope.shard_count is not None:
        marks = ", ".join("?" for _ in scope.shard_ids) or "NULL"  # no shard: no server
        shards = f"(({column} >> 22) % ?) IN ({marks})"
        params += (scope.shard_count, *scope.shard_ids)
        if scope.seen:
            shards = f"({shards} OR {column} IN ({', '.join('?' for _ in scope.seen)}))"
            params += scope.seen
        conditions.append(shards)
    if scope.skip:
        conditions.append(f"{column} NOT IN ({', '.join('?' for _ in scope.skip)})")
        params += scope.skip
    return conditions, params
