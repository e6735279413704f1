"""The records a report builds (`core.records.hot_record`): cheap to build, equal and hashable
as frozen dataclasses are, and frozen to mypy; the decisions' answers built once."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.followthrough import count_decision
from core.links import MessageLink, make_message_link
from core.models import CaseRef, ReportSource, UserSnapshot
from core.policy import ValidSubmission, decide, make_valid_submission
from core.ports import (
    CaseJoin,
    NewReport,
    ReportContext,
    make_case_join,
    make_new_report,
    make_report_context,
)
from core.reasons import Reason
from core.records import hot_record, keyword_maker
from core.service import ReportAccepted, make_report_accepted

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
    assert CaseRef(id=1, number=2) == CaseRef(id=1, number=2)
    assert hash(CaseRef(id=1, number=2)) == hash(CaseRef(id=1, number=2))


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


MAKERS = (
    (make_new_report, NewReport),
    (make_report_context, ReportContext),
    (make_case_join, CaseJoin),
    (make_report_accepted, ReportAccepted),
    (make_message_link, MessageLink),
    (make_valid_submission, ValidSubmission),
)


@pytest.mark.parametrize(("maker", "cls"), MAKERS)
def test_a_keyword_maker_builds_what_its_class_builds(maker: Any, cls: type):
    fields = dataclasses.fields(cls)
    # A distinct value per field: a store into the wrong slot would show.
    values = {f.name: object() for f in fields}
    made, built = maker(**values), cls(**values)
    assert type(made) is cls
    assert made == built and hash(made) == hash(built)
    assert all(getattr(made, name) is value for name, value in values.items())
    required = {f.name: values[f.name] for f in fields if f.default is dataclasses.MISSING}
    assert maker(**required) == cls(**required)  # the defaults are the class's


@pytest.mark.parametrize(("maker", "cls"), MAKERS)
def test_a_keyword_maker_takes_keywords_only(maker: Any, cls: type):
    values = [object() for _ in dataclasses.fields(cls)]
    with pytest.raises(TypeError):
        maker(*values)
    with pytest.raises(TypeError):
        maker(not_a_field=1)


def test_a_keyword_maker_is_refused_for_a_record_init_does_more_for():
    @hot_record
    class Checked:
        value: int

        def __post_init__(self) -> None:
            raise AssertionError("never skipped")

    @dataclasses.dataclass(frozen=True, slots=True)
    class Frozen:
        value: int

    @hot_record
    class Listed:
        values: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass
    class NoSlots:
        value: int

    @hot_record
    class OwnInit:
        value: int

        def __init__(self, value: int) -> None:  # kept by @dataclass: it does more
            self.value = value + 1

    @dataclasses.dataclass(slots=True, init=False)
    class NoInit:
        value: int = 0

    @hot_record
    class WithInitVar:
        value: int
        scale: dataclasses.InitVar[int] = 1

    @hot_record
    class OwnNew:
        value: int

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return super().__new__(cls)

    for cls in (Checked, Frozen, Listed, NoSlots, OwnInit, NoInit, WithInitVar, OwnNew):
        with pytest.raises(TypeError):
            keyword_maker(cls)


def test_a_keyword_maker_is_typed_as_its_class(tmp_path: Path):
    api = pytest.importorskip("mypy.api")
    source = tmp_path / "makes.py"
    source.write_text(
        textwrap.dedent(
            """
            from core.ports import make_case_join
            from core.models import UserSnapshot

            join = make_case_join(
                case_id=1, target=UserSnapshot(2, "a"), urgent=True, reminder_at=None,
                new_reporter=False,
            )
            reveal_type(join)
            make_case_join(case_id="1", target=UserSnapshot(2, "a"), urgent=True,
                           reminder_at=None, new_reporter=False)
            make_case_join(case_id=1, target=UserSnapshot(2, "a"), urgent=True,
                           reminder_at=None, new_reporter=False, no_such_field=1)
            join.urgent = False
            make_case_join(1, UserSnapshot(2, "a"), True, None, False)
            """
        )
    )
    root = Path(__file__).resolve().parents[2]
    config = str(root / "pyproject.toml")
    flags = ["--strict", "--no-incremental", "--follow-imports=silent", "--config-file", config]
    out, _, status = api.run([*flags, str(source)])
    assert status == 1
    assert 'Revealed type is "core.ports.CaseJoin"' in out, out
    assert 'Argument "case_id" has incompatible type "str"; expected "int"' in out, out
    assert 'Unexpected keyword argument "no_such_field"' in out, out
    assert "is read-only" in out, out
    assert "makes.py:15: error: Too many positional arguments" in out, out  # keywords only


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
