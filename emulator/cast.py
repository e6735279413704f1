"""The default world: two guilds (Harbour, Lighthouse) and a named cast of users.

See README.md ("The cast") for who is who. Names are stable so tests read like stories:
``world.users["carol"]`` is always the two-day-old account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .models import Channel, Guild, Member, Overwrite, Role, User
from .permissions import DEFAULT_EVERYONE, P
from .snowflake import SnowflakeFactory
from .world import World

MOD_PERMS = P.MANAGE_MESSAGES | P.MODERATE_MEMBERS | P.KICK_MEMBERS | P.BAN_MEMBERS
VIGIL_PERMS = (
    P.SEND_MESSAGES
    | P.EMBED_LINKS
    | P.VIEW_CHANNEL
    | P.MODERATE_MEMBERS
    | P.KICK_MEMBERS
    | P.BAN_MEMBERS
    | P.MANAGE_MESSAGES
)
PRIVATE_VIEW = P.VIEW_CHANNEL | P.SEND_MESSAGES | P.EMBED_LINKS | P.READ_MESSAGE_HISTORY


def _ago(**kw: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kw)


def build_default_world() -> World:
    """Build a fresh default world (new ids every call, so tests never share state)."""
    ids = SnowflakeFactory()
    years = 365.0

    def user(name: str, age_days: float, *, bot: bool = False, display: str | None = None) -> User:
        return User(
            id=ids.at(_ago(days=age_days)),
            username=name,
            global_name=display or name.capitalize(),
            bot=bot,
        )

    bot_user = user("vigil", 30, bot=True, display="Vigil")
    world = World(ids=ids, application_id=bot_user.id, bot_user=bot_user)
    cast = {
        # Harbour staff
        "olivia": user("olivia", 6 * years),  # owner of Harbour, also the app owner
        "adam": user("adam", 5 * years),  # Harbour admin
        "maya": user("maya", 4 * years),  # Harbour moderator
        "milo": user("milo", 3 * years),  # Harbour moderator
        # Harbour ordinary members
        "alice": user("alice", 3 * years),  # also in Lighthouse
        "bob": user("bob", 2 * years),
        "carol": user("carol", 2),  # account only 2 days old
        "dave": user("dave", 1 * years),  # joined Harbour 1 hour ago
        "erin": user("erin", 4 * years),  # also in Lighthouse (and a moderator there)
        "helperbot": user("helperbot", 2 * years, bot=True, display="HelperBot"),
        # Lighthouse staff and members
        "greta": user("greta", 7 * years),  # owner of Lighthouse
        "hans": user("hans", 3 * years),  # Lighthouse moderator
        "ida": user("ida", 2 * years),
        # A user in no guild (for DM / unknown-member tests)
        "zed": user("zed", 1 * years),
    }
    world.users.update(cast)
    world.users["vigil"] = bot_user
    world.owner_user_id = cast["olivia"].id

    # ---------------------------------------------------------------- Harbour (guild A)
    ga = Guild(
        id=ids.at(_ago(days=5 * years)),
        name="Harbour",
        owner_id=cast["olivia"].id,
        preferred_locale="en-GB",
    )
    ga.roles[ga.id] = Role(
        id=ga.id, name="@everyone", permissions=int(DEFAULT_EVERYONE), position=0
    )
    regular = Role(ids.now(), "Regulars", 0, 1, color=0x95A5A6)
    vigil_role = Role(ids.now(), "Vigil", int(VIGIL_PERMS), 2, managed=True, bot_id=bot_user.id)
    mods = Role(ids.now(), "Moderators", int(MOD_PERMS), 3, color=0x3498DB, hoist=True)
    admins = Role(ids.now(), "Admins", int(P.ADMINISTRATOR), 4, color=0xE74C3C, hoist=True)
    bots = Role(ids.now(), "Bots", 0, 1)
    for r in (regular, vigil_role, mods, admins, bots):
        ga.roles[r.id] = r

    def member(g: Guild, name: str, roles: list[Role], joined: datetime) -> None:
        u = world.users[name]
        g.members[u.id] = Member(
            user=u, guild_id=g.id, roles=[r.id for r in roles], joined_at=joined
        )

    member(ga, "olivia", [], _ago(days=5 * years))
    member(ga, "adam", [admins], _ago(days=4 * years))
    member(ga, "maya", [mods], _ago(days=3 * years))
    member(ga, "milo", [mods], _ago(days=2 * years))
    member(ga, "alice", [regular], _ago(days=2 * years))
    member(ga, "bob", [regular], _ago(days=400))
    member(ga, "carol", [], _ago(days=1))
    member(ga, "dave", [], _ago(hours=1))
    member(ga, "erin", [regular], _ago(days=300))
    member(ga, "helperbot", [bots], _ago(days=500))
    member(ga, "vigil", [vigil_role], _ago(days=20))

    hidden = Overwrite(ga.id, 0, deny=int(P.VIEW_CHANNEL))
    general = Channel(ids.now(), "general", guild_id=ga.id, position=0, topic="Chat")
    alerts = Channel(
        ids.now(),
        "mod-alerts",
        guild_id=ga.id,
        position=1,
        overwrites=[
            hidden,
            Overwrite(mods.id, 0, allow=int(PRIVATE_VIEW)),
            Overwrite(vigil_role.id, 0, allow=int(PRIVATE_VIEW)),
        ],
    )
    audit = Channel(
        ids.now(),
        "audit",
        guild_id=ga.id,
        position=2,
        overwrites=[
            Overwrite(ga.id, 0, deny=int(P.VIEW_CHANNEL)),
            Overwrite(mods.id, 0, allow=int(P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY)),
            Overwrite(vigil_role.id, 0, allow=int(PRIVATE_VIEW)),
        ],
    )
    for c in (general, alerts, audit):
        ga.channels[c.id] = c

    # ---------------------------------------------------------------- Lighthouse (guild B)
    gb = Guild(
        id=ids.at(_ago(days=3 * years)),
        name="Lighthouse",
        owner_id=cast["greta"].id,
        preferred_locale="de",
    )
    gb.roles[gb.id] = Role(
        id=gb.id, name="@everyone", permissions=int(DEFAULT_EVERYONE), position=0
    )
    vigil_b = Role(ids.now(), "Vigil", int(VIGIL_PERMS), 1, managed=True, bot_id=bot_user.id)
    mods_b = Role(ids.now(), "Moderatoren", int(MOD_PERMS), 2, color=0x2ECC71)
    for r in (vigil_b, mods_b):
        gb.roles[r.id] = r
    member(gb, "greta", [], _ago(days=3 * years))
    member(gb, "hans", [mods_b], _ago(days=2 * years))
    member(gb, "erin", [mods_b], _ago(days=700))
    member(gb, "ida", [], _ago(days=100))
    member(gb, "alice", [], _ago(days=50))
    member(gb, "vigil", [vigil_b], _ago(days=10))
    allgemein = Channel(ids.now(), "allgemein", guild_id=gb.id, position=0)
    modlog = Channel(
        ids.now(),
        "moderation",
        guild_id=gb.id,
        position=1,
        overwrites=[
            Overwrite(gb.id, 0, deny=int(P.VIEW_CHANNEL)),
            Overwrite(mods_b.id, 0, allow=int(PRIVATE_VIEW)),
            Overwrite(vigil_b.id, 0, allow=int(PRIVATE_VIEW)),
        ],
    )
    for c in (allgemein, modlog):
        gb.channels[c.id] = c

    world.guilds[ga.id] = ga
    world.guilds[gb.id] = gb
    world.guild_a_id = ga.id
    world.guild_b_id = gb.id

    # ---------------------------------------------------------------- private channels
    # Outside any guild: a DM alice <-> carol and the group DM "study group" (alice, carol,
    # ida). The bot is in neither; it reaches them only through user-installed commands.
    _ = (world.dm_alice_carol, world.group_dm_study)
    return world
