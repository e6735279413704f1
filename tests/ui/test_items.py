"""Every persistent component derives from ui.items.VigilItem: one parse, one permission
check, one answer to junk. The alert's buttons come from core.case_view's decision."""

from __future__ import annotations

import re

import pytest

from core.case_view import AlertAction
from core.models import CaseAction
from ui.admin_items import ForgetButton, QueuePageButton
from ui.alert_view import ACTION_LABEL_KEYS
from ui.case_actions import (
    BUTTON_HANDLERS,
    CancelButton,
    CaseButton,
    ConfirmButton,
    DismissSelect,
    TimeoutSelect,
)
from ui.country_menu import CountrySelect
from ui.items import Access, VigilItem

ITEMS = (
    CaseButton,
    ConfirmButton,
    CancelButton,
    TimeoutSelect,
    DismissSelect,
    QueuePageButton,
    ForgetButton,
    CountrySelect,
)


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.__name__)
def test_every_item_is_a_vigil_item_that_parses_every_group(item):
    assert issubclass(item, VigilItem)
    template: re.Pattern[str] = item.__discord_ui_compiled_template__
    assert set(template.groupindex) == set(item.fields), item.__name__
    assert "from_custom_id" not in vars(item) and "callback" not in vars(item)
    assert "interaction_check" not in vars(item)


def test_who_may_press_what():
    moderator = {CaseButton, ConfirmButton, TimeoutSelect, DismissSelect}
    managers = {QueuePageButton, ForgetButton}
    for item in ITEMS:
        expected = (
            Access.MODERATOR
            if item in moderator
            else Access.MANAGE_SERVER
            if item in managers
            else Access.ANYONE
        )
        assert item.access is expected, item.__name__


def parse(item: type[VigilItem], custom_id: str):
    match = item.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None, custom_id
    return item.parse(match)


def test_fields_are_typed_and_junk_is_refused():
    assert parse(CaseButton, "vigil:case:export:42") == {"key": AlertAction.EXPORT, "case_id": 42}
    assert parse(CaseButton, "vigil:case:zzz:42") is None  # no such action
    assert parse(CaseButton, "vigil:case:note:0") is None  # no row has ID 0
    assert parse(CaseButton, "vigil:case:note:9999999999999999999") is None  # beyond 64 bits
    assert parse(ConfirmButton, "vigil:confirm:ban:5:123456789012345678:0") == {
        "key": CaseAction.BAN,
        "case_id": 5,
        "target": 123456789012345678,
        "arg": "0",
    }
    assert parse(ConfirmButton, "vigil:confirm:kick:5:0")["target"] is None  # an old prompt
    assert parse(TimeoutSelect, "vigil:timeout:5:0") is None
    assert parse(CountrySelect, "vigil:country:nonsense:GB") == {
        "reason": "other",
        "country": "GB",
    }


def test_every_alert_action_has_a_handler_and_a_label():
    assert set(BUTTON_HANDLERS) == set(AlertAction)
    assert {str(a) for a in AlertAction} <= set(ACTION_LABEL_KEYS)
