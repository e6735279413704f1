"""The records a report builds (`core.records.hot_record`): cheap to build, equal and hashable
as frozen dataclasses are, and frozen to mypy; the decisions' answers built once."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.followthrough import count_decision
from core.links import MessageLink
from core.models import CaseRef, ReportSource, UserSnapshot
from core.policy import ValidSubmission, decide
from core.ports import CaseJoin, NewReport, ReportContext
from core.reasons import Reason
from core.service import ReportAccepted

HOT = (NewReport, ReportContext, CaseJoin, ReportAccepted, CaseRef, MessageLink, ValidSubmission)


def _report(**changes: object) -> NewReport:
    report = NewReport(
        guild_id=1,
        reporter=UserSnapshot(2, "a"),
        target=UserSnapshot(3, "b"),
        reason=Reason.SPAM,
        source=ReportSource.SLASH,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        details=None,
        message_link=None,
        channel_id=None,
        message_id=None,
        case_id=None,
    )
    return dataclasses.replace(report, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", HOT)
def test_hot_records_are_slots_dataclasses(cls: type):
    assert dataclasses.is_dataclass(cls)
    assert not hasattr(cls, "__dict__") or "__dict__" not in cls.__dict__
    assert "__slots__" in cls.__dict__


def test_hot_records_compare_and_hash_by_value():
    assert _report() == _report()
    assert hash(_report()) == hash(_report())
    assert _report() != _report(case_id=5)
    assert len({_report(), _report(), _report(case_id=5)}) == 2
    assert CaseRef(1, 2) == CaseRef(1, 2) and hash(CaseRef(1, 2)) == hash(CaseRef(1, 2))


def test_hot_records_are_frozen_to_the_type_checker(tmp_path: Path):
    api = pytest.importorskip("mypy.api")
    source = tmp_path / "assigns.py"
    source.write_text(
        textwrap.dedent(
            """
            from core.links import MessageLink
            from core.models import CaseRef
            from core.policy import ValidSubmission
            from core.ports import CaseJoin, NewReport, ReportContext
            from core.service import ReportAccepted

            def change(
                r: NewReport, c: ReportContext, j: CaseJoin, a: ReportAccepted, ref: CaseRef,
                link: MessageLink, valid: ValidSubmission,
            ) -> None:
                r.case_id = 1
                c.muted = True
                j.urgent = True
                a.report_id = 2
                ref.number = 3
                link.message_id = 4
                valid.details = None
            """
        )
    )
    root = Path(__file__).resolve().parents[2]
    config = str(root / "pyproject.toml")
    flags = ["--strict", "--no-incremental", "--follow-imports=silent", "--config-file", config]
    out, _, status = api.run([*flags, str(source)])
    assert status == 1
    assert out.count("is read-only") == 7, out  # every hot record (grep @hot_record)


def test_count_decisions_are_built_once():
    for muted in (False, True):
        for retaliation in (False, True):
            for old_enough in (False, True):
                first = count_decision(old_enough=old_enough, retaliation=retaliation, muted=muted)
                again = count_decision(old_enough=old_enough, retaliation=retaliation, muted=muted)
                assert first is again
    assert count_decision(old_enough=True, retaliation=False, muted=False).counts


def test_threshold_decisions_are_built_once():
    assert decide(distinct_reporters=1, threshold=3, critical=True) is decide(
        distinct_reporters=0, threshold=3, critical=True
    )
    assert decide(distinct_reporters=3, threshold=3, critical=False) is decide(
        distinct_reporters=4, threshold=3, critical=False
    )
    waiting = decide(distinct_reporters=1, threshold=3, critical=False)
    assert waiting is decide(distinct_reporters=2, threshold=3, critical=False)
    assert not waiting.open_case and not waiting.urgent


def test_strip_control_fast_path_agrees_with_the_regex():
    from core.text import _STRIPPED, strip_control

    for code in range(0x100):
        text = f"a{chr(code)}b {chr(code)}"
        assert strip_control(text) == _STRIPPED.sub("", text), hex(code)
