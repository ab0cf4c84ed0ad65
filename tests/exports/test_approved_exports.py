"""The files of an approved plan carry no machine text, even when its draft had the model down and HR
approved it with the flags acknowledged. The files of the same plan in review say what is still to check,
in words for people, and still no technical detail."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from tailor.models.scripted import ScriptedModel
from tailor.pipeline.engine import Engine
from tailor.review.auth import UserOut
from tailor.review.flags import acknowledge_all, open_flags
from tailor.review.service import ReviewService
from tests.fixtures.drafting import BACKGROUND, CORPUS, model_settings
from tests.fixtures.faults import connection_error

FILES = ("markdown", "pdf", "csv", "ics")
# Machine text: failure wording, error codes, the model's id, review fields and review notes.
MACHINE = re.compile(
    r"(?i)not tailored|errno|connection refused|could not reach|not reachable|model call|mock-model|openai/"
    r"|\((?:connection|timeout|server)\)|review_reason|needs[ -]review|to check|grounded|the model"
)
# What a draft's file may say, and never more: the human sentence, no technical detail.
TECHNICAL = re.compile(r"(?i)errno|connection refused|model call|mock-model|openai/|\(connection\)")


def text_of(service: ReviewService, user: UserOut, plan_id: int, fmt: str) -> str:
    content = service.export(user, plan_id, fmt).content
    if fmt == "pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    if fmt == "csv":
        rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
        return "\n".join(" | ".join(row) for row in rows)
    return content.decode("utf-8")


@pytest.fixture
def model_down_plan(service: ReviewService, manager: UserOut, isolated_settings: Path) -> int:
    """A plan drafted while the model was unreachable, saved and submitted for review."""
    intake = service.save_intake(manager, BACKGROUND, "Priya Raman", date(2026, 3, 2))
    engine = Engine(model_settings(), corpus=CORPUS, model=ScriptedModel([connection_error()] * 4))
    plan = engine.draft(service.get_intake(manager, intake).draft_request()).plan
    assert sum(t.needs_review for t in plan.all_tasks()) >= 2 and plan.review_flags
    plan_id = service.create_plan_from_draft(manager, intake, plan).id
    service.submit(manager, plan_id, 1)
    return plan_id


def test_an_approved_plan_with_acknowledged_flags_exports_no_machine_text(
    service: ReviewService, hr: UserOut, model_down_plan: int
) -> None:
    plan_id = model_down_plan
    flags = acknowledge_all(open_flags(service.get_plan(hr, plan_id).plan), "The standard wording is right here.")
    assert service.approve(hr, plan_id, 1, "Checked with the manager", flags).status == "approved"
    for fmt in FILES:
        text = text_of(service, hr, plan_id, fmt)
        assert not MACHINE.search(text), f"{fmt}: {MACHINE.search(text)} in an approved file"
    assert "Approved by" in text_of(service, hr, plan_id, "markdown")
    csv_text = text_of(service, hr, plan_id, "csv")
    assert "needs-review" not in csv_text


def test_the_same_plan_in_review_says_what_to_check_without_technical_detail(
    service: ReviewService, hr: UserOut, model_down_plan: int
) -> None:
    markdown = text_of(service, hr, model_down_plan, "markdown")
    assert "## To check before approval" in markdown
    assert "tasks keep the role profile's wording because the model was not reachable." in markdown
    assert "  - **To check**: The model was not reachable, so this task keeps the role profile's wording." in markdown
    pdf = text_of(service, hr, model_down_plan, "pdf")
    assert "To check before approval" in pdf
    csv_text = text_of(service, hr, model_down_plan, "csv")
    assert "needs-review" in csv_text and "To check: The model was not reachable" in csv_text
    for fmt in FILES:
        text = text_of(service, hr, model_down_plan, fmt)
        assert not TECHNICAL.search(text), f"{fmt}: {TECHNICAL.search(text)}"
