"""The escalation packet: what Discord Trust & Safety, NCMEC or the police ask for, in one file.

IDs, names at the time, links, timestamps (UTC), report texts and the case's history. Never
media: Vigil never had any, and a packet must never become a way to pass images around.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.evidence import MessageEvidence
from core.hotlines import Category, HotlineDirectory, HotlineEntry
from core.models import AlertData, CaseAction, CaseEvent, RelayKind
from core.reasons import Reason
from core.relay import RelayEntry, relay_story, reporter_order
from core.snowflakes import snowflake_time

#: 2 (2026-12-01): reports no longer carry `counted_toward_threshold` (the packet is the same
#: whoever exports it, so it says nothing of how reports counted).
FORMAT_VERSION = 2


def _utc(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat(timespec="seconds")


def _entry(entry: HotlineEntry) -> dict[str, Any]:
    return {
        "organisation": entry.organisation,
        "country": entry.country,
        "url": entry.url,
        "phone": entry.phone,
        "source": list(entry.source_urls),
    }


def _police(directory: HotlineDirectory, region: str | None) -> list[dict[str, Any]]:
    """The national emergency / police entry, or a plain pointer when the country is unknown
    (no emergency number is guessed)."""
    own = [e for e in directory.entries(region, Category.EMERGENCY) if e.country == region]
    if own:
        return [_entry(e) for e in own]
    return [
        {
            "organisation": "Local police (your country's emergency number)",
            "country": region,
            "url": None,
            "phone": directory.emergency_number(region),
            "source": [],
        }
    ]


_ANYWHERE_CSAM_ID = "us-ncmec-cybertipline"
"""FACTS.md section 7: NCMEC's CyberTipline takes reports from anywhere (the fallback when the
server's country has no hotline of its own)."""


def where_to_file_by_reason(
    directory: HotlineDirectory, region: str | None, reasons: Iterable[Reason]
) -> dict[str, list[dict[str, Any]]]:
    """Where to file, per reason in the case, from the sourced directory.

    child_safety: the national CSAM hotline and police channel, then the police; violent_threat:
    the police; self_harm: emergency and crisis services, never a child-abuse-image hotline;
    every reason: Discord's own routes.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for reason in dict.fromkeys(reasons):
        found: list[dict[str, Any]] = []
        if reason is Reason.CHILD_SAFETY:
            hotlines = directory.entries(region, Category.CSAM_REPORT)
            exploitation = directory.entries(region, Category.CHILD_EXPLOITATION)
            national = [e for e in hotlines + exploitation if e.country == region]
            chosen = national or hotlines
            anywhere = directory.get(_ANYWHERE_CSAM_ID)
            if not national and anywhere is not None:
                chosen = [*chosen, anywhere]
            found += [_entry(e) for e in dict.fromkeys(chosen)]
            found += _police(directory, region)
        elif reason is Reason.VIOLENT_THREAT:
            found += _police(directory, region)
        elif reason is Reason.SELF_HARM:
            found += _police(directory, region)
            found += [_entry(e) for e in directory.entries(region, Category.CRISIS)]
        found += [_entry(e) for e in directory.platform_entries()]
        out[reason.value] = found
    return out


def where_to_file(
    directory: HotlineDirectory, region: str | None, reasons: Iterable[Reason]
) -> list[dict[str, Any]]:
    """Every place of :func:`where_to_file_by_reason`, once each, most urgent reason first."""
    ordered = sorted(set(reasons), key=_REASON_ORDER.index)
    seen: dict[tuple[str, str | None], dict[str, Any]] = {}
    for places in where_to_file_by_reason(directory, region, ordered).values():
        for place in places:
            seen.setdefault((place["organisation"], place["country"]), place)
    return list(seen.values())


_REASON_ORDER = [
    Reason.CHILD_SAFETY,
    Reason.VIOLENT_THREAT,
    Reason.SELF_HARM,
    *(r for r in Reason if r not in (Reason.CHILD_SAFETY, Reason.VIOLENT_THREAT, Reason.SELF_HARM)),
]


def build_export(
    data: AlertData,
    *,
    guild_name: str,
    directory: HotlineDirectory,
    generated_at: datetime,
    generated_by: int,
    describe: Callable[[CaseEvent], str],
    include_reporters: bool = False,
) -> dict[str, Any]:
    """The packet. ``describe`` words one action's summary line (ui/alert_view.py's
    ``describe_event``, in English: the packet is for authorities).

    Reporters are "Reporter 1, 2, ..." (in order of their first report, as the alert numbers
    them) unless ``include_reporters``: the acknowledgement promises that only the server's
    moderators can see who reported, and a packet leaves the server. The questions moderators
    asked reporters through Vigil and what reporters answered or added (t15-followup) name
    reporters the same way; their words are kept as they wrote them (text, never markup)."""
    case = data.case
    reasons = [Reason(r.reason) for r in data.reports]
    order = reporter_order(data.reports)
    aliases = {reporter_id: f"Reporter {n}" for n, reporter_id in enumerate(order, start=1)}
    asked = {e.id: e.at for e in relay_story(data) if e.kind is RelayKind.QUESTION}

    def reporter(reporter_id: int) -> dict[str, str]:
        if include_reporters:
            return {"reporter": aliases[reporter_id], "reporter_id": str(reporter_id)}
        return {"reporter": aliases[reporter_id]}

    return {
        "format": "vigil-case-export",
        "format_version": FORMAT_VERSION,
        "generated_at_utc": _utc(generated_at),
        "generated_by_moderator_id": str(generated_by),
        "notice": (
            "Contains IDs, links, timestamps and report texts only. No images, attachments or "
            "message contents were collected. Do not attach abusive images to any report: "
            "give the message links instead."
        ),
        "guild": {"id": str(case.guild_id), "name": guild_name},
        "case": {
            "number": case.number,
            "status": case.status.value,
            "urgent": case.urgent,
            "opened_at_utc": _utc(case.opened_at),
            "closed_at_utc": _utc(case.closed_at),
            "dismiss_reason": case.dismiss_reason.value if case.dismiss_reason else None,
        },
        "target": {
            "user_id": str(case.target_id),
            "name_at_report_time": case.target_name,
            "account_created_utc": _utc(snowflake_time(case.target_id)),
            "member_of_guild": case.target_is_member,
            "joined_guild_utc": _utc(case.target_joined_at),
        },
        "reported_messages": [
            {
                "link": link,
                "guild_id": str(case.guild_id),
                "channel_id": str(channel_id),
                "message_id": str(message_id),
                "message_created_utc": _utc(snowflake_time(message_id)),
            }
            for link, channel_id, message_id in dict.fromkeys(
                (r.message_link, r.channel_id, r.message_id)
                for r in data.reports
                if r.message_link and r.channel_id and r.message_id
            )
        ],
        "reports": [
            {
                "reported_at_utc": _utc(r.created_at),
                **reporter(r.reporter_id),
                "reason": r.reason.value,
                "reason_label": Reason(r.reason).label,
                # "dm_message": the reported message is in a DM (its link says @me).
                "source": r.source.value,
                "details": r.details,
                "message_link": r.message_link,
                "message_evidence": _evidence(r.evidence),
            }
            for r in data.reports
        ],
        "actions": [
            {
                "at_utc": _utc(e.created_at),
                "moderator_id": str(e.actor_id),
                "action": e.action.value,
                **_detail_and_summary(e, describe, aliases, include_reporters),
                "note": e.note,
            }
            for e in data.events
            if e.action is not CaseAction.NOTE
        ],
        "moderator_notes": [
            {"at_utc": _utc(e.created_at), "moderator_id": str(e.actor_id), "note": e.note}
            for e in data.events
            if e.action is CaseAction.NOTE
        ],
        "reporter_messages": [
            _relay_entry(entry, reporter(order[entry.reporter - 1]), asked)
            for entry in relay_story(data)
        ],
        "reporter_identities": "included" if include_reporters else "omitted",
        "where_to_file": where_to_file(directory, data.settings.region, reasons),
        "where_to_file_by_reason": where_to_file_by_reason(
            directory, data.settings.region, sorted(set(reasons), key=_REASON_ORDER.index)
        ),
    }


def _relay_entry(
    entry: RelayEntry, reporter: dict[str, str], asked: dict[int, datetime]
) -> dict[str, Any]:
    """One step of the reporter Q&A: a question (who asked, whether it was delivered), an
    answer (to the question asked when), details added, or "stop messages"."""
    out: dict[str, Any] = {"at_utc": _utc(entry.at), "kind": entry.kind.value, **reporter}
    if entry.kind is RelayKind.QUESTION:
        out["moderator_id"] = str(entry.moderator_id)
        out["delivery"] = entry.delivery.value if entry.delivery else None
    if entry.question_id is not None:
        out["question_asked_at_utc"] = _utc(asked.get(entry.question_id))
    if entry.kind is not RelayKind.STOPPED:
        out["text"] = entry.text
    return out


def _evidence(evidence: MessageEvidence | None) -> dict[str, Any] | None:
    """The reported message's text as kept, with attachment counts and content types only:
    the files, their URLs and their names were never kept."""
    if evidence is None:
        return None
    return {
        "author_id": str(evidence.author_id),
        "sent_at_utc": _utc(evidence.sent_at),
        "edited": evidence.edited,
        "text": evidence.text,
        "attachments_not_kept": evidence.attachments,
        "attachment_content_types": list(evidence.types),
    }


def export_json(packet: dict[str, Any]) -> bytes:
    return json.dumps(packet, indent=2, ensure_ascii=False).encode("utf-8")


def _detail_and_summary(
    event: CaseEvent,
    describe: Callable[[CaseEvent], str],
    aliases: dict[int, str],
    include_reporters: bool,
) -> dict[str, str | None]:
    """An action's detail and summary line. An ``erasure_held`` event's detail is the member
    whose erasure was held: a reporter of this case (their reports about the manager who ran
    it). Outside the server that reporter is their alias, in the detail and in the summary's
    mention alike, unless ``include_reporters`` (review of stop 27, finding 3)."""
    detail = event.detail
    if event.action is CaseAction.ERASURE_HELD and detail and not include_reporters:
        # An alias is not an ID: `describe` names the member with it as it stands.
        detail = aliases.get(int(detail)) if detail.isdigit() else None
        event = replace(event, detail=detail)
    return {"detail": detail, "summary": describe(event)}
