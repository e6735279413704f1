"""The escalation packet: what Discord Trust & Safety, NCMEC or the police ask for, in one file.

IDs, names at the time, links, timestamps (UTC), report texts and the case's history. Never
media: Vigil never had any, and a packet must never become a way to pass images around.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from core.alert_view import describe_event
from core.hotlines import Category, HotlineDirectory, HotlineEntry
from core.models import AlertData, CaseAction
from core.reasons import Reason
from core.snowflakes import snowflake_time

FORMAT_VERSION = 1


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


def where_to_file(
    directory: HotlineDirectory, region: str | None, critical: bool
) -> list[dict[str, Any]]:
    """From the sourced directory: the national CSAM hotline for critical cases, and Discord."""
    found: list[HotlineEntry] = []
    if critical:
        found += directory.entries(region, Category.CSAM_REPORT)
        found += directory.entries(region, Category.CHILD_EXPLOITATION)
    found += directory.platform_entries()
    unique = {e.id: e for e in found}
    return [_entry(e) for e in unique.values()]


def build_export(
    data: AlertData,
    *,
    guild_name: str,
    directory: HotlineDirectory,
    generated_at: datetime,
    generated_by: int,
) -> dict[str, Any]:
    case = data.case
    critical = any(r.reason.is_critical for r in data.reports)
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
                "reporter_id": str(r.reporter_id),
                "reason": r.reason.value,
                "reason_label": Reason(r.reason).label,
                "details": r.details,
                "message_link": r.message_link,
                "counted_toward_threshold": r.counts_toward_threshold,
            }
            for r in data.reports
        ],
        "actions": [
            {
                "at_utc": _utc(e.created_at),
                "moderator_id": str(e.actor_id),
                "action": e.action.value,
                "detail": e.detail,
                "note": e.note,
                "summary": describe_event(e),
            }
            for e in data.events
            if e.action is not CaseAction.NOTE
        ],
        "moderator_notes": [
            {"at_utc": _utc(e.created_at), "moderator_id": str(e.actor_id), "note": e.note}
            for e in data.events
            if e.action is CaseAction.NOTE
        ],
        "where_to_file": where_to_file(directory, data.settings.region, critical),
    }


def export_json(packet: dict[str, Any]) -> bytes:
    return json.dumps(packet, indent=2, ensure_ascii=False).encode("utf-8")
