"""Builders for INTERACTION_CREATE payloads shaped exactly as Discord sends them.

Command ids and option types come from what the bot registered through bulk overwrite, so a
test fails loudly if it drives a command the bot never synced (Discord would never send it).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .models import Channel, Member, Role, User
from .world import Attachment, World

if TYPE_CHECKING:
    from .server import Emulator

OptionValue = User | Member | Channel | Role | Attachment | str | int | float | bool
Context = Literal["guild", "bot_dm", "private_channel"]
Installed = Literal["guild", "user", "both"]

#: Interaction context types (Discord's InteractionContextType).
CONTEXTS: dict[str, int] = {"guild": 0, "bot_dm": 1, "private_channel": 2}

#: ``app_permissions`` Discord sends outside guilds (no overwrites apply there).
PRIVATE_APP_PERMISSIONS = 0x1_0004_C400

_PY_TYPES: list[tuple[type, int]] = [
    (bool, 5),
    (int, 4),
    (float, 10),
    (str, 3),
    (User, 6),
    (Member, 6),
    (Channel, 7),
    (Role, 8),
    (Attachment, 11),
]


class InteractionBuilder:
    """Creates interaction payloads from cast members and registered commands."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    @property
    def world(self) -> World:
        return self.emu.world

    # -- common envelope ---------------------------------------------------------------------
    def _context_channel(
        self, user: User | str, channel: Channel | None, context: Context | None
    ) -> Channel:
        """The channel an interaction comes from: explicit, or the default for ``context``
        (guild → Harbour #general, bot_dm → the bot's DM with the user, private_channel →
        the cast DM alice↔carol)."""
        if channel is not None:
            return channel
        if context is None or context == "guild":
            return self.world.guild_a.channel("general")
        if context == "bot_dm":
            return self.world.dm_channel_for(self.world.user(user))
        if context == "private_channel":
            dm = self.world.dm_alice_carol
            if not dm.has_recipient(self.world.user(user)):
                raise ValueError("pass channel=world.dm_between(...) or world.group_dm(...)")
            return dm
        raise ValueError(f"unknown context {context!r}")

    def _base(
        self,
        itype: int,
        user: User | str,
        channel: Channel | None,
        locale: str | None,
        guild_locale: str | None = None,
        *,
        context: Context | None = None,
        installed: Installed | None = None,
    ) -> dict[str, Any]:
        """The envelope Discord puts around every interaction.

        ``context`` (0 guild, 1 bot DM, 2 private channel) follows from the channel; passing it
        only checks that it matches. ``installed`` says which installation authorised the
        interaction: ``"guild"`` (default in guilds and the bot's DM), ``"user"`` (default and
        required in DMs/group DMs between users) or ``"both"``. It fills
        ``authorizing_integration_owners`` as Discord documents it: ``{"0": guild_id}`` for a
        guild install (``"0"`` in the bot's DM), ``{"1": user_id}`` for a user install.
        """
        world = self.world
        u = world.user(user)
        channel = self._context_channel(u, channel, context)
        iid = world.ids.now()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(60)
        guild = world.guild_of(channel.id)
        ctx = 0 if guild is not None else (1 if world.bot_can_access(channel) else 2)
        if context is not None and CONTEXTS[context] != ctx:
            raise ValueError(f"channel {channel.id} is context {ctx}, not {context!r}")
        if installed is None:
            installed = "user" if ctx == 2 else "guild"
        if ctx == 2 and installed != "user":
            raise ValueError("only a user-installed app can be used in DMs between users")
        owners: dict[str, str] = {}
        if installed in ("guild", "both"):
            owners["0"] = str(guild.id) if guild is not None else "0"
        if installed in ("user", "both"):
            owners["1"] = str(u.id)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(world.application_id),
            "type": itype,
            "token": token,
            "version": 1,
            "locale": locale
            or ("de" if guild is not None and guild.id == world.guild_b_id else "en-GB"),
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": owners,
            "context": ctx,
        }
        if guild is not None:
            if u.id not in guild.members:
                raise ValueError(f"{u.username} is not a member of {guild.name}")
            member = guild.members[u.id]
            bot_member = guild.members[world.bot_user.id]
            payload.update(
                {
                    "guild_id": str(guild.id),
                    "guild": {
                        "id": str(guild.id),
                        "locale": guild.preferred_locale,
                        "features": [],
                    },
                    "guild_locale": guild_locale or guild.preferred_locale,
                    "channel_id": str(channel.id),
                    "channel": channel.partial_payload(
                        world.channel_permissions(guild, member, channel)
                    ),
                    "member": {
                        **member.payload(),
                        "permissions": str(world.channel_permissions(guild, member, channel)),
                    },
                    "app_permissions": str(world.channel_permissions(guild, bot_member, channel)),
                }
            )
        else:
            if ctx == 2 and not channel.has_recipient(u):
                raise ValueError(f"{u.username} is not in private channel {channel.id}")
            payload.update(
                {
                    "channel_id": str(channel.id),
                    "channel": channel.partial_payload(viewer=u),
                    "user": u.payload(),
                    "app_permissions": str(PRIVATE_APP_PERMISSIONS),
                }
            )
        return payload

    def _command(
        self, name: str, ctype: int, guild_id: int | None, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The registered command, refused (``LookupError``) where Discord would not offer it:
        not registered, a guild command outside its guild, a context missing from its
        ``contexts`` (or the bot's DM with ``dm_permission: false``), or an installation type
        missing from its ``integration_types``."""
        cmd = self.emu.find_command(name, ctype, guild_id)
        if cmd is None:
            raise LookupError(
                f"command {name!r} (type {ctype}) was not registered by the bot; "
                f"registered: {[(c['name'], c['type']) for c in self.emu.all_commands()]}"
            )
        if payload is None:
            return cmd
        ctx = int(payload["context"])
        owners = payload["authorizing_integration_owners"]
        if cmd.get("guild_id") and (ctx != 0 or "0" not in owners):
            raise LookupError(f"guild command {name!r} is only offered in its guild")
        contexts = cmd.get("contexts")
        if contexts is not None and ctx not in contexts:
            raise LookupError(f"command {name!r} has contexts {contexts}, not {ctx}")
        if contexts is None and ctx == 1 and cmd.get("dm_permission") is False:
            raise LookupError(f"command {name!r} has dm_permission false")
        types = cmd.get("integration_types") or [0]
        missing = [k for k in owners if int(k) not in types]
        if len(missing) == len(owners):
            raise LookupError(
                f"command {name!r} has integration_types {types}; interaction authorised by "
                f"{sorted(owners)}"
            )
        return cmd

    # -- resolved data -----------------------------------------------------------------------
    def _resolve(
        self, value: Any, resolved: dict[str, dict[str, Any]], guild_id: int | None, invoker: Any
    ) -> str | int | float | bool:
        world = self.world
        guild = world.guilds.get(guild_id) if guild_id else None
        if isinstance(value, Member):
            value = value.user
        if isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            if guild is not None and value.id in guild.members:
                mem = guild.members[value.id]
                mp = mem.payload(include_user=False)
                mp["permissions"] = str(world.base_permissions(guild, mem))
                resolved.setdefault("members", {})[str(value.id)] = mp
            return str(value.id)
        if isinstance(value, Channel):
            data = {
                "id": str(value.id),
                "name": value.name,
                "type": value.type,
                "parent_id": str(value.parent_id) if value.parent_id else None,
                "flags": 0,
            }
            if guild is not None and invoker is not None:
                data["permissions"] = str(world.channel_permissions(guild, invoker, value))
            if value.guild_id is not None:
                data["guild_id"] = str(value.guild_id)
            resolved.setdefault("channels", {})[str(value.id)] = data
            return str(value.id)
        if isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if isinstance(value, Attachment):
            att = world.attachment_payload(value, 0)
            att["ephemeral"] = True
            resolved.setdefault("attachments", {})[att["id"]] = att
            return str(att["id"])
        return value  # type: ignore[no-any-return]

    def _options(
        self,
        values: Mapping[str, OptionValue],
        schema: Sequence[dict[str, Any]],
        resolved: dict[str, dict[str, Any]],
        guild_id: int | None,
        invoker: Any,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema}
        out: list[dict[str, Any]] = []
        for name, value in values.items():
            declared = by_name.get(name)
            if declared is None:
                raise LookupError(f"option {name!r} not declared; have {sorted(by_name)}")
            otype = int(declared["type"])
            if focused is not None:
                # Autocomplete sends raw (partially typed) values as strings/numbers.
                opt: dict[str, Any] = {"name": name, "type": otype, "value": value}
                if name == focused:
                    opt["focused"] = True
            else:
                value = self._coerce(otype, value, guild_id)
                opt = {
                    "name": name,
                    "type": otype,
                    "value": self._resolve(value, resolved, guild_id, invoker),
                }
            out.append(opt)
        return out

    def _coerce(self, otype: int, value: OptionValue, guild_id: int | None) -> OptionValue:
        """Let tests name things: ``"dave"`` for a user option, ``"mod-alerts"`` for a channel."""
        if not isinstance(value, str):
            return value
        guild = self.world.guilds.get(guild_id) if guild_id else None
        if otype in (6, 9) and value in self.world.users:
            return self.world.users[value]
        if otype == 7 and guild is not None:
            return guild.channel(value)
        if otype == 8 and guild is not None:
            return guild.role(value)
        return value

    # -- public builders ---------------------------------------------------------------------
    def slash(
        self,
        command: str,
        *,
        user: User | str,
        channel: Channel | None = None,
        options: Mapping[str, OptionValue] | None = None,
        locale: str | None = None,
        focused: str | None = None,
        context: Context | None = None,
        installed: Installed | None = None,
    ) -> dict[str, Any]:
        """A CHAT_INPUT command: ``slash("reports setup", user="olivia", options={...})``.

        The first word is the command; a second word is a subcommand, or with three words a
        subcommand group then subcommand. With ``focused`` set, builds an autocomplete (type 4).
        ``context="bot_dm"`` / ``"private_channel"`` (or a DM ``channel``) and
        ``installed="user"`` build the interaction of a user-installed app (see ``_base``).
        """
        itype = 4 if focused is not None else 2
        payload = self._base(itype, user, channel, locale, context=context, installed=installed)
        guild_id = int(payload["guild_id"]) if "guild_id" in payload else None
        invoker = self._invoker(payload)
        words = command.split()
        cmd = self._command(words[0], 1, guild_id, payload)
        resolved: dict[str, dict[str, Any]] = {}
        schema: list[dict[str, Any]] = list(cmd.get("options") or [])
        nesting: list[tuple[str, int]] = []
        for word in words[1:]:
            sub = next((o for o in schema if o["name"] == word and o["type"] in (1, 2)), None)
            if sub is None:
                raise LookupError(f"{word!r} is not a subcommand/group of {words[0]!r}")
            nesting.append((word, int(sub["type"])))
            schema = list(sub.get("options") or [])
        leaf = self._options(options or {}, schema, resolved, guild_id, invoker, focused)
        for name, otype in reversed(nesting):
            leaf = [{"name": name, "type": otype, "options": leaf}]
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": cmd["name"],
            "type": 1,
            "options": leaf,
        }
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        payload["data"] = data
        return payload

    def autocomplete(
        self,
        command: str,
        *,
        user: User | str,
        options: Mapping[str, OptionValue],
        focused: str,
        channel: Channel | None = None,
        context: Context | None = None,
        installed: Installed | None = None,
    ) -> dict[str, Any]:
        """An APPLICATION_COMMAND_AUTOCOMPLETE (type 4) for the ``focused`` option."""
        return self.slash(
            command,
            user=user,
            channel=channel,
            options=options,
            focused=focused,
            context=context,
            installed=installed,
        )

    def user_command(
        self,
        name: str,
        *,
        user: User | str,
        target: User | str,
        channel: Channel | None = None,
        locale: str | None = None,
        context: Context | None = None,
        installed: Installed | None = None,
    ) -> dict[str, Any]:
        """A USER context-menu command (e.g. "Report user") on ``target``."""
        payload = self._base(2, user, channel, locale, context=context, installed=installed)
        guild_id = int(payload["guild_id"]) if "guild_id" in payload else None
        cmd = self._command(name, 2, guild_id, payload)
        resolved: dict[str, dict[str, Any]] = {}
        target_id = self._resolve(self.world.user(target), resolved, guild_id, None)
        payload["data"] = {
            "id": cmd["id"],
            "name": cmd["name"],
            "type": 2,
            "target_id": target_id,
            "resolved": resolved,
        }
        return payload

    def message_command(
        self,
        name: str,
        *,
        user: User | str,
        message: dict[str, Any],
        locale: str | None = None,
        installed: Installed | None = None,
    ) -> dict[str, Any]:
        """A MESSAGE context-menu command (e.g. "Report message") on a stored message.

        The interaction comes from the message's channel: a guild channel (context 0), the
        bot's DM (1), or a DM / group DM between users (2, user install; post the message with
        ``post_user_message(world.dm_between("carol", "alice"), "carol", ...)``). As on
        Discord, ``resolved.messages`` carries the whole message (author, content, timestamp,
        edited_timestamp, attachments metadata, no ``member``), which is all a bot ever gets
        of a message in a DM it is not part of: fetching it answers 403 50001.
        """
        channel = self.world.channel(int(message["channel_id"]))
        if channel is None:
            raise LookupError("message is not in a known channel")
        payload = self._base(2, user, channel, locale, installed=installed)
        guild_id = int(payload["guild_id"]) if "guild_id" in payload else None
        cmd = self._command(name, 3, guild_id, payload)
        resolved_msg = {k: v for k, v in message.items() if k not in ("member",)}
        payload["data"] = {
            "id": cmd["id"],
            "name": cmd["name"],
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: resolved_msg}},
        }
        return payload

    def component(
        self,
        custom_id: str,
        *,
        user: User | str,
        message: dict[str, Any],
        component_type: int = 2,
        values: Sequence[Any] | None = None,
        locale: str | None = None,
        installed: Installed | None = None,
    ) -> dict[str, Any]:
        """A MESSAGE_COMPONENT (type 3): a button click (2) or select (3, 5-8) with values."""
        channel = self.world.channel(int(message["channel_id"])) or self.world.dm_channel_for(
            self.world.user(user)
        )
        payload = self._base(3, user, channel, locale, installed=installed)
        guild_id = int(payload["guild_id"]) if "guild_id" in payload else None
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            resolved: dict[str, dict[str, Any]] = {}
            data["values"] = [
                self._resolve(v, resolved, guild_id, self._invoker(payload))
                if not isinstance(v, str)
                else v
                for v in values
            ]
            if resolved:
                data["resolved"] = resolved
        payload["data"] = data
        payload["message"] = message
        return payload

    def modal_submit(
        self,
        custom_id: str,
        *,
        user: User | str,
        fields: Mapping[str, str | Sequence[str]],
        channel: Channel | None = None,
        message: dict[str, Any] | None = None,
        labels: bool = True,
        locale: str | None = None,
        context: Context | None = None,
        installed: Installed | None = None,
    ) -> dict[str, Any]:
        """A MODAL_SUBMIT (type 5). ``fields`` maps component custom_id to a text value or to a
        list of select values. With ``labels`` (default) each field is wrapped in a Label
        (type 18, the shape discord.py 2.7 ``ui.Label`` modals receive); otherwise in action
        rows (type 1, legacy TextInput-only modals)."""
        if channel is None and message is not None:
            channel = self.world.channel(int(message["channel_id"]))
        payload = self._base(5, user, channel, locale, context=context, installed=installed)
        comps: list[dict[str, Any]] = []
        for n, (cid, value) in enumerate(fields.items()):
            if isinstance(value, str):
                inner: dict[str, Any] = {
                    "type": 4,
                    "id": n * 2 + 2,
                    "custom_id": cid,
                    "value": value,
                }
            else:
                inner = {
                    "type": 3,
                    "id": n * 2 + 2,
                    "custom_id": cid,
                    "values": list(value),
                }
            if labels:
                comps.append({"type": 18, "id": n * 2 + 1, "component": inner})
            else:
                comps.append({"type": 1, "id": n * 2 + 1, "components": [inner]})
        payload["data"] = {"custom_id": custom_id, "components": comps}
        if message is not None:
            payload["message"] = message
        return payload

    def _invoker(self, payload: dict[str, Any]) -> Member | None:
        if "guild_id" not in payload:
            return None
        guild = self.world.guilds[int(payload["guild_id"])]
        uid = int(payload["member"]["user"]["id"])
        return guild.members.get(uid)
