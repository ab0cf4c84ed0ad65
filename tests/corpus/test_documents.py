"""The corpus serves two readers; these tests keep the structure and the narrative telling the same story."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tailor.corpus.documents import CaseStudyMeta, RoleProfileMeta, corpus_hosts, load_corpus, load_document
from tailor.corpus.teams import COMPANY_DOMAIN, host_allowed
from tests.conftest import CORPUS_DIR

CORPUS = load_corpus(CORPUS_DIR)
DOCS = {d.id: d for d in CORPUS.docs}


def test_the_corpus_is_valid_and_complete() -> None:
    assert CORPUS.errors == ()
    assert len(CORPUS.roles()) >= 10
    assert len(CORPUS.case_studies()) >= 12
    assert len(CORPUS.teams()) >= 8  # their own checks are in test_teams.py
    levels = {lvl for c in CORPUS.case_studies() if c.situation == "standard" for lvl in c.policy.applies_to}
    assert {"intern", "junior", "mid", "senior", "staff", "manager"} <= levels


def _in_body(body: str, phrase: str) -> bool:
    norm = lambda s: re.sub(r"[\s*_`]+", " ", s.lower())  # noqa: E731
    return norm(phrase) in norm(body)


@pytest.mark.parametrize("doc_id", sorted(d for d in DOCS if d.startswith("role-")))
def test_role_profile_body_tells_what_its_front_matter_says(doc_id: str) -> None:
    doc = DOCS[doc_id]
    assert isinstance(doc.meta, RoleProfileMeta)
    names = (
        [r.name for r in doc.meta.responsibilities]
        + [c.name for c in doc.meta.capabilities]
        + [r.role for r in doc.meta.relationships]
    )
    missing = [n for n in names if not _in_body(doc.body, n)]
    assert not missing, f"{doc_id}: the narrative never names {missing}"


@pytest.mark.parametrize("doc_id", sorted(d for d in DOCS if d.startswith("case-")))
def test_case_study_body_tells_its_tasks_and_policy(doc_id: str) -> None:
    doc = DOCS[doc_id]
    assert isinstance(doc.meta, CaseStudyMeta)
    missing = [t.title for t in doc.meta.tasks if not _in_body(doc.body, t.title)]
    assert not missing, f"{doc_id}: the narrative never names tasks {missing}"
    body = doc.body.lower()
    p = doc.meta.policy
    assert re.search(rf"day {p.first_pr_day}\b", body), "first PR day not stated in the narrative"
    assert re.search(rf"week {p.full_productivity_week}\b", body), "full-productivity week not stated"
    if p.on_call_week is not None:
        assert re.search(rf"week {p.on_call_week}\b", body), "on-call week not stated"


def test_bad_front_matter_names_the_file_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    text = (CORPUS_DIR / "roles" / "role-backend-engineer.md").read_text(encoding="utf-8")
    bad.write_text(text.replace("kind: role_profile", "kind: role_profile\nmission_typo: x"), encoding="utf-8")
    err = load_document(bad)
    assert not hasattr(err, "meta")
    assert "bad.md" in str(err) and "mission_typo" in str(err)


def test_corpus_urls_are_https_public_documentation_or_internal_company_links() -> None:
    """Role profiles and case studies cite public documentation; team profiles also link to the
    company's own runbooks, dashboards, channels and repos, on its reserved domain."""
    public = corpus_hosts(CORPUS.docs)
    assert public and not any(host_allowed(f"https://{h}/", set()) for h in public)  # no company host among them
    for url in CORPUS.urls():
        assert url.startswith("https://"), url
        assert host_allowed(url, public), url
    internal = {u for u in CORPUS.urls() if urlparse(u).hostname not in public}
    assert internal and all((urlparse(u).hostname or "").endswith("." + COMPANY_DOMAIN) for u in internal)
