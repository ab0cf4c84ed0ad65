"""Bad input to a draft: a background over the size limit, and résumés not written in English.

Uploaded files are tested in ``test_uploads.py``, hostile text in the exports in
``tests/exports/test_export_safety.py``, the validators in ``test_validate.py`` and
``tests/test_schema.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tailor.errors import BadInput
from tailor.exports import FORMATS, render
from tailor.models.scripted import ScriptedModel
from tailor.pipeline.engine import Engine
from tailor.schema import DraftRequest
from tests.fixtures.db import make_plan
from tests.fixtures.drafting import CORPUS, CallSpy, export_context, model_settings, valid_answers


def test_an_oversized_background_names_the_limit_before_any_model_call(spy: CallSpy, isolated_settings: Path) -> None:
    # An empty script: a model call would raise ScriptExhausted instead of the BadInput expected.
    engine = Engine(model_settings(), corpus=CORPUS, model=ScriptedModel([]))
    words = "Senior backend engineer with Go and PostgreSQL experience. " * 900  # 54,000 characters
    with pytest.raises(BadInput) as info:
        engine.draft(DraftRequest(background=words))
    assert "the limit is 50,000" in info.value.message and "\n" not in info.value.message
    assert spy.calls == []


# --------------------------------------------------------------------------- non-English résumés
NON_ENGLISH = {
    "de": (
        "Jana Müller — Senior Backend Engineer (Senior Backend-Entwicklerin)\n"
        "E-Mail: jana.mueller@beispiel.de · Tel.: +49 30 1234567 · Musterstraße 12, 10115 Berlin\n"
        "8 Jahre Erfahrung mit Python, Go und PostgreSQL bei einem Zahlungsdienstleister. "
        "Leitete die Migration zu Kafka und betreut Junior-Entwickler.",
        ["jana.mueller@beispiel.de", "1234567", "Musterstraße"],
    ),
    "ja": (
        "山田太郎 — Senior Backend Engineer (シニアバックエンドエンジニア)\n"
        "メール: taro.yamada@example.jp 電話: +81 3 1234 5678\n"
        "Python と Go で 8 years of experience。決済システムで PostgreSQL と Kafka を使用しています。",
        ["taro.yamada@example.jp", "1234 5678"],
    ),
}


@pytest.mark.parametrize("lang", list(NON_ENGLISH))
def test_non_english_resumes_draft_redact_and_export(lang: str, spy: CallSpy, isolated_settings: Path) -> None:
    text, personal = NON_ENGLISH[lang]
    settings_ = model_settings()
    request = DraftRequest(background=text)
    plan = Engine(settings_, corpus=CORPUS, model=ScriptedModel(valid_answers(settings_, request))).draft(request).plan
    assert plan.all_tasks() and plan.hire.seniority == "senior"
    sent = json.dumps([c["messages"] for c in spy.calls], ensure_ascii=False)
    assert spy.calls and not [p for p in personal if p in sent]
    plan.hire.start_date = make_plan().hire.start_date
    for fmt in FORMATS:  # every registered format
        assert render(plan, export_context(), fmt).content
