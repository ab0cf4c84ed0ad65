"""Corpus (admins): browse documents and teams, add or edit them with the ingest checks, re-ingest, promote plans."""

from __future__ import annotations

import streamlit as st

from tailor.corpus.writer import CORPUS_FOLDERS, DocKind, check_document, new_document_text, save_document
from tailor.web.corpus_page import teams_frame
from tailor.web.errors import guard
from tailor.web.services import current_corpus, index, services
from tailor.web.session import flash, require_user
from tailor.web.tables import corpus_frame
from tailor.web.text import safe

user = require_user("admin")
svc = services()
S = st.session_state
corpus_dir = svc.settings.corpus_dir

st.title("Corpus")
st.caption(
    "Role profiles, onboarding case studies and team profiles: Markdown for people, YAML front matter for "
    "the planner. Every plan is grounded in these documents; re-ingest after a change so retrieval sees it."
)
corpus = current_corpus()
if corpus.errors:
    with st.expander(
        f"{len(corpus.errors)} document(s) have errors and are left out",
        expanded=True,
        icon=":material/error:",
    ):
        for err in corpus.errors:
            st.markdown(f"- `{safe(err.path.name)}` · **{safe(err.field)}**: {safe(err.message)}")

browse, edit, ingest, promote = st.tabs(["Browse", "Add or edit", "Re-ingest", "Promote approved plans"])

# --------------------------------------------------------------------------- browse
with browse:
    frame = corpus_frame(corpus, corpus_dir)
    kind_filter = st.segmented_control(
        "Show", ["all", "role profile", "case study", "team profile"], default="all", key="co_kind"
    )
    shown = frame if kind_filter in (None, "all") else frame[frame["kind"] == kind_filter]
    st.dataframe(shown, hide_index=True)
    st.markdown("**Teams** · who a hire joins: the manager, the role families the team hires, its buddies")
    st.dataframe(teams_frame(corpus), hide_index=True, key="co_teams")
    docs = corpus.by_id()
    if docs:
        pick = st.selectbox("Read", sorted(docs), key="co_read", format_func=lambda i: f"{i} · {docs[i].meta.title}")
        doc = docs[pick]
        left, right = st.columns([1, 1])
        with left:
            st.markdown("**Front matter (what the planner reads)**")
            st.json(doc.meta.model_dump(mode="json"), expanded=1)
        with right:
            st.markdown("**Narrative (what people read)**")
            with st.container(height=520, border=True):
                st.markdown(doc.body)

# --------------------------------------------------------------------------- add or edit
# Each "new" choice starts from a copy of a document of its kind (kind, id, file name).
NEW_DOCS: dict[str, tuple[DocKind, str]] = {
    "(new role profile)": ("role_profile", "role-new-role"),
    "(new case study)": ("case_study", "case-new-story"),
    "(new team profile)": ("team_profile", "team-new-team"),
}


with edit:
    st.caption(
        "Edit the whole file. **Validate** checks it exactly as ingest will (for a team profile also against "
        "the rest of the corpus: canonical skill names, a person on one team, links on allowed hosts); "
        "**Save** writes only into the corpus folder (roles/, case-studies/ or teams/, by kind), under a "
        "plain `.md` name that matches the document id. A new team starts as a copy of another: give it "
        "its own people and starter tasks."
    )
    choice = st.selectbox("Document", [*NEW_DOCS, *sorted(corpus.by_id())], key="co_edit_pick")
    if choice in NEW_DOCS:
        new_kind, new_id = NEW_DOCS[choice]
        initial, default_name = new_document_text(corpus, new_kind, new_id), f"{new_id}.md"
    else:
        existing = corpus.by_id()[choice]
        initial, default_name = existing.path.read_text(encoding="utf-8"), existing.path.name
    text = st.text_area("Markdown with YAML front matter", value=initial, height=460, key=f"co_text_{choice}")
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    filename = c1.text_input("File name", value=default_name, key=f"co_name_{choice}")
    overwrite = c2.checkbox("Replace it if it exists", value=choice not in NEW_DOCS, key=f"co_over_{choice}")
    if c3.button("Validate", icon=":material/fact_check:", key="co_validate"):
        with guard("validating the document") as ok:
            checked = check_document(corpus_dir, filename, text)
        if ok.ok:
            st.success(
                f"Valid {checked.kind.replace('_', ' ')}: {safe(checked.meta.title)} "
                f"({len(checked.sections())} sections)",
                icon=":material/check:",
            )
    if c4.button("Save", type="primary", icon=":material/save:", key="co_save"):
        with guard("saving the document") as saved:
            path = save_document(
                corpus_dir, filename, text, overwrite=overwrite, how_to_overwrite="tick 'replace it' to overwrite"
            )
        if saved.ok:
            flash(f"Saved {path.name}; re-ingest to make it searchable")
            st.rerun()

# --------------------------------------------------------------------------- ingest
with ingest:
    st.caption("Embeds only what changed since the last ingest; removed documents leave the index.")
    if st.button("Re-ingest the corpus", type="primary", icon=":material/sync:", key="co_ingest"):
        bar = st.progress(0.0, text="Opening the index…")

        def tick(done: int, total: int) -> None:
            if total:
                bar.progress(done / total, text=f"Embedding chunks: {done} of {total}")
            else:
                bar.progress(1.0, text="Nothing changed")

        with guard("re-ingesting the corpus") as done:
            report = index().ingest(current_corpus(), progress=tick)
        if done.ok:
            bar.progress(1.0, text="Done")
            st.success(f"Ingested {len(corpus.docs)} documents: {report.summary()}", icon=":material/check:")
            st.toast("Corpus re-ingested", icon=":material/sync:")

# --------------------------------------------------------------------------- promote
with promote:
    st.caption(
        "Turn a plan HR approved into a new case study, so later plans for similar hires learn from it. "
        "The hire's name is dropped and personal details are removed from every field."
    )
    approved = []
    with guard("listing approved plans"):
        approved = svc.review.list_plans(user, status="approved")
    if not approved:
        st.info("No approved plans yet.", icon=":material/inbox:")
    else:
        labels = {p.id: f"#{p.id} · {p.seniority} {p.role} · revision {p.revision}" for p in approved}
        pid = st.selectbox("Approved plan", list(labels), format_func=labels.__getitem__, key="co_promote_pick")
        with guard("building the case study") as built:
            from tailor.corpus.promote import case_study_from_plan

            detail = svc.review.get_plan(user, pid)
            case = case_study_from_plan(detail.plan, pid, taken_ids=corpus.by_id(), keep_urls=corpus.urls())
            check_document(corpus_dir, case.filename, case.text)
        if built.ok:
            st.markdown(
                f"Will be saved as `{CORPUS_FOLDERS['case_study']}/{case.filename}`: **{safe(case.meta.title)}**, "
                f"{len(case.meta.tasks)} tasks."
            )
            with st.expander("Preview the document"):
                st.code(case.text, language="markdown")
            if st.button("Add to the corpus", type="primary", icon=":material/library_add:", key="co_promote"):
                with guard("adding the case study") as added:
                    path = save_document(corpus_dir, case.filename, case.text, overwrite=False)
                if added.ok:
                    flash(f"Added {path.name}; re-ingest to make it searchable")
                    st.rerun()
