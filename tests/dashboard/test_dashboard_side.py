"""The bot's side of the dashboard, offline: a page naming many people asks Discord for a
bounded number of them (the rest show as IDs), and remembers the names it got."""

from __future__ import annotations

from typing import Any

import discord

from ui.dashboard_side import NAME_FETCHES_PER_PAGE, BotSide


class FakeBot:
    """Nobody in the caches: every name must be fetched."""

    def __init__(self) -> None:
        self.fetched: list[int] = []

    def get_guild(self, guild_id: int) -> None:
        return None

    def get_user(self, user_id: int) -> None:
        return None

    async def fetch_user(self, user_id: int) -> discord.User:
        self.fetched.append(user_id)
        if user_id == 13:
            raise discord.NotFound(FakeResponse(), "Unknown User")  # a deleted account
        data: Any = {"id": str(user_id), "username": f"u{user_id}", "discriminator": "0"}
        data["global_name"] = f"User {user_id}"
        data["avatar"] = None
        return discord.User(state=None, data=data)  # type: ignore[arg-type]


class FakeResponse:
    status = 404
    reason = "Not Found"


async def test_a_page_fetches_a_bounded_number_of_names():
    bot = FakeBot()
    side = BotSide(bot)  # type: ignore[arg-type]
    wanted = list(range(1, 101))
    names = await side.names(1, wanted)
    assert len(bot.fetched) == NAME_FETCHES_PER_PAGE
    assert names[1] == "User 1" and 13 not in names
    assert len(names) == NAME_FETCHES_PER_PAGE - 1
    # The next page gets the remembered names from memory and fetches the next batch.
    again = await side.names(1, wanted)
    assert len(bot.fetched) == 2 * NAME_FETCHES_PER_PAGE
    assert again[1] == "User 1" and len(again) > len(names)
