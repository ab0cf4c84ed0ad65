"""How the pages show text and errors: user text made literal, errors worded with a next step."""

from __future__ import annotations

import logging
import re

import pytest
from pydantic import BaseModel, ValidationError

from tailor.errors import BadInput, Conflict, ModelUnavailable, TailorError
from tailor.web.errors import GENERIC_ERROR, error_text, first_problem, reported
from tailor.web.text import safe, shorten, status_label


def test_user_text_is_rendered_literally() -> None:
    hostile = "<img src=x onerror=alert(1)> [click](https://evil.example) $x$ **bold**\n- item"
    shown = safe(hostile)
    assert re.search(r"(?<!\\)[<\[\]()$*]", shown) is None, shown  # every active character escaped
    assert "\\<img" in shown and "\\[click\\]\\(" in shown and "\\*\\*bold\\*\\*" in shown
    assert "\\- item" in shown


@pytest.mark.parametrize(("line", "shown"), [("1. first", "1\\. first"), ("  = rule", "  \\= rule"), ("a-b", "a-b")])
def test_a_line_cannot_start_a_list_or_a_heading(line: str, shown: str) -> None:
    assert safe(line) == shown


def test_lines_stay_lines() -> None:
    assert safe("one\r\ntwo") == "one  \ntwo"


def test_shorten_folds_space_and_cuts_long_text() -> None:
    assert shorten("a\n  b\tc") == "a b c"
    cut = shorten("word " * 100, limit=20)
    assert len(cut) <= 20 and cut.endswith("…")


def test_labels() -> None:
    assert status_label("in_review") == "In review" and status_label("odd") == "odd"


def test_an_error_a_person_can_act_on_says_what_next() -> None:
    assert error_text(BadInput("the name is empty"), "saving") == (
        "the name is empty — Correct the input and try again."
    )
    assert "Reload" in error_text(Conflict("someone saved first"), "saving")
    assert "grounded plan still stands" in error_text(ModelUnavailable("down"), "drafting")
    assert error_text(TailorError("plain"), "saving") == "plain"


def test_a_bug_gets_a_generic_line_and_its_traceback_goes_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tailor.web"):
        shown = reported(KeyError("secret internals"), "saving the plan")
    assert shown == GENERIC_ERROR.format(action="saving the plan")
    assert "secret" not in shown
    assert caplog.records and caplog.records[0].exc_info is not None
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tailor.web"):
        reported(BadInput("no"), "saving")
    assert not caplog.records  # a person's mistake is not logged as a bug


def test_first_problem_names_the_field() -> None:
    class Form(BaseModel):
        weeks: int

    with pytest.raises(ValidationError) as caught:
        Form.model_validate({"weeks": "many"})
    assert first_problem(caught.value).startswith("weeks: Input should be a valid integer")
