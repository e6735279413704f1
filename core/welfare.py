"""Welfare, not punishment, for self-harm (issue 15): the decisions, as plain data.

A member reported for self-harm is at risk, not an offender. So their case leads with a
private **check-in** (a short, warm DM with who to talk to now), and what acts on the member
(timeout, kick, ban, deleting messages) sits one step away. What a check-in says is in the
catalogues (``checkin.*``); who it goes to, in which language, with which country's help and
how often is decided here.

- **Which cases.** A case with a self-harm report and no child-safety or threat report is a
  welfare case (those two ask to contain someone first: their layout stays as it is, with
  Check in added). A member who asked for support themselves (``Report.asks_for_support``)
  makes a welfare case too.
- **Language.** The member's own Discord locale when Vigil saw it (they asked for support
  themselves: stored on the case, erased with it), else the server's. Vigil keeps no per-member
  language record for people who never asked it for anything.
- **Country.** The server's configured country; else the one country the member's own locale
  names (as for every reporter, core/regions.py); else the international answer (Find A
  Helpline, FACTS.md section 7) with a country menu.
- **How often.** One delivered check-in per case per ``CHECK_IN_COOLDOWN``, decided by a
  compare-and-set in the database: two moderators pressing at once send one DM.
"""

from __future__ import annotations

import re
from datetime import timedelta

from core.models import AlertData, Case, Report
from core.outcomes import Vocabulary
from core.reasons import Reason
from core.regions import effective_region

CHECK_IN_COOLDOWN = timedelta(minutes=30)
"""A delivered check-in holds the next one back this long: a person at risk gets one warm
message, not one per moderator who saw the alert."""

CHECK_IN_LEASE = timedelta(minutes=2)
"""A claim with no delivery recorded this long after it is free again: its process died (or
failed) between the claim and the record, and the member must not go 30 minutes without the
check-in a moderator asked for."""

CHECK_IN_SEND_SECONDS = 60.0
"""How long a check-in's DM may take (discord.py would otherwise wait out rate limits and
retries for minutes): well within CHECK_IN_LEASE, so a live process always records its
check-in before another moderator's claim can start."""

_CONTAIN_FIRST = frozenset({Reason.CHILD_SAFETY, Reason.VIOLENT_THREAT})
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?")


class CheckInResult(Vocabulary):
    """What became of a check-in: the detail of its CHECK_IN event (codes, never sentences)."""

    SENT = "sent"
    DMS_CLOSED = "dms_closed"  # Discord error 50007: the member accepts no DMs from Vigil
    FAILED = "failed"  # any other error: nothing was delivered


class SupportResult(Vocabulary):
    """What became of a member's own request for support (the self-report's button)."""

    ASKED = "asked"  # the moderators know (now, or already did)
    NOT_CONFIGURED = "not_configured"  # no alert channel: nothing stored
    RATE_LIMITED = "rate_limited"  # the member's reporting limit: nothing stored


def _reasons(reports: tuple[Report, ...]) -> frozenset[Reason]:
    return frozenset(r.reason for r in reports)


def offers_check_in(data: AlertData) -> bool:
    """Whether the alert has a Check in button: someone may be at risk of self-harm."""
    return Reason.SELF_HARM in _reasons(data.reports)


def is_welfare_case(data: AlertData) -> bool:
    """Whether the alert leads with welfare (Check in first, member actions one step away)."""
    return offers_check_in(data) and not (_reasons(data.reports) & _CONTAIN_FIRST)


def asked_for_support(reports: tuple[Report, ...]) -> bool:
    return any(r.asks_for_support for r in reports)


def storable_locale(locale: str | None) -> str | None:
    """A Discord locale code worth keeping (``de``, ``pt-BR``), or None for anything else."""
    return locale if locale and _LOCALE.fullmatch(locale) else None


def check_in_locale(case: Case, server_locale: str | None) -> str | None:
    """The language of a check-in: the member's own when known, else the server's."""
    return case.target_locale or server_locale


def check_in_region(configured: str | None, case: Case) -> str | None:
    """The country whose help a check-in gives (None: the international answer)."""
    return effective_region(configured, case.target_locale)
