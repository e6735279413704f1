from __future__ import annotations

import pytest

from core.links import parse_message_link

G, C, M = 111111111111111111, 222222222222222222, 333333333333333333


@pytest.mark.parametrize(
    "host", ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"]
)
def test_accepts_discord_message_links(host):
    link = parse_message_link(f"https://{host}/channels/{G}/{C}/{M}")
    assert link is not None and (link.guild_id, link.channel_id, link.message_id) == (G, C, M)
    assert link.url == f"https://discord.com/channels/{G}/{C}/{M}"


@pytest.mark.parametrize(
    "text",
    [
        f"http://discord.com/channels/{G}/{C}/{M}",
        f"https://discord.com.evil.example/channels/{G}/{C}/{M}",
        f"https://discord.com/channels/@me/{C}/{M}",
        f"https://discord.com/channels/{G}/{C}",
        "javascript:alert(1)",
        "'; DROP TABLE reports; --",
        "x" * 5000,
    ],
)
def test_rejects_everything_else(text):
    assert parse_message_link(text) is None
