"""Corpus (admins): browse, add or edit documents with front-matter validation, re-ingest, promote plans."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tailor.corpus.documents import CaseStudyMeta, RoleProfileMeta
from tailor.web import ui

user = ui.require_user("admin")
svc = ui.services()
S = st.session_state
corpus_dir = svc.settings.corpus_dir

st.title("Corpus")
st.caption(
    "Role profiles and onboarding case studies: Markdown for people, YAML front matter for the planner. "
    "Every plan is grounded in these documents; re-ingest after a change so retrieval sees it."
)
corpus = ui.corpus()
if corpus.errors:
    with st.expander(
        f"{len(corpus.errors)} document(s) have errors and are left out",
        expanded=True,
        icon=":material/error:",
    ):
        for err in corpus.errors:
            st.markdown(f"- `{ui.safe(err.path.name)}` · **{ui.safe(err.field)}**: {ui.safe(err.message)}")

browse, edit, ingest, promote = st.tabs(["Browse", "Add or edit", "Re-ingest", "Promote approved plans"])

# --------------------------------------------------------------------------- browse
with browse:
    rows = [
        {
            "id": d.id,
            "kind": d.kind.replace("_", " "),
            "title": d.meta.title,
            "roles": ", ".join(d.meta.roles),
            "seniority": ", ".join(d.meta.seniority),
            "situation": d.meta.situation if isinstance(d.meta, CaseStudyMeta) else "",
            "file": str(d.path.relative_to(corpus_dir)) if d.path.is_relative_to(corpus_dir) else d.path.name,
        }
        for d in corpus.docs
    ]
    kind_filter = st.segmented_control("Show", ["all", "role profile", "case study"], default="all", key="co_kind")
    shown = [r for r in rows if kind_filter in (None, "all") or r["kind"] == kind_filter]
    st.dataframe(pd.DataFrame(shown), hide_index=True)
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
NEW_ROLE, NEW_CASE = "(new role profile)", "(new case study)"


def template(kind: type[RoleProfileMeta] | type[CaseStudyMeta], new_id: str) -> str:
    """A new document starts as a copy of an existing one of its kind, with a fresh id."""
    sample = next((d for d in corpus.docs if isinstance(d.meta, kind)), None)
    if sample is None:
        return f"---\nid: {new_id}\nkind: {'role_profile' if kind is RoleProfileMeta else 'case_study'}\n---\n"
    text = sample.path.read_text(encoding="utf-8")
    return text.replace(f"id: {sample.id}", f"id: {new_id}", 1)


with edit:
    st.caption(
        "Edit the whole file. **Validate** checks the front matter exactly as ingest will; **Save** writes "
        "only into the corpus folder (roles/ or case-studies/, by kind), under a plain `.md` name that "
        "matches the document id."
    )
    choice = st.selectbox("Document", [NEW_ROLE, NEW_CASE, *sorted(corpus.by_id())], key="co_edit_pick")
    if choice == NEW_ROLE:
        initial, default_name = template(RoleProfileMeta, "role-new-role"), "role-new-role.md"
    elif choice == NEW_CASE:
        initial, default_name = template(CaseStudyMeta, "case-new-story"), "case-new-story.md"
    else:
        existing = corpus.by_id()[choice]
        initial, default_name = existing.path.read_text(encoding="utf-8"), existing.path.name
    text = st.text_area("Markdown with YAML front matter", value=initial, height=460, key=f"co_text_{choice}")
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    filename = c1.text_input("File name", value=default_name, key=f"co_name_{choice}")
    overwrite = c2.checkbox(
        "Replace it if it exists", value=choice not in (NEW_ROLE, NEW_CASE), key=f"co_over_{choice}"
    )
    if c3.button("Validate", icon=":material/fact_check:", key="co_validate"):
        with ui.guard("validating the document") as ok:
            checked = ui.validate_document_text(text, filename)
            ui.corpus_target(corpus_dir, filename, checked.kind)
        if ok.ok:
            st.success(
                f"Valid {checked.kind.replace('_', ' ')}: {ui.safe(checked.meta.title)} "
                f"({len(checked.sections())} sections)",
                icon=":material/check:",
            )
    if c4.button("Save", type="primary", icon=":material/save:", key="co_save"):
        with ui.guard("saving the document") as saved:
            path = ui.save_document(corpus_dir, filename, text, overwrite=overwrite)
        if saved.ok:
            ui.flash(f"Saved {path.name}; re-ingest to make it searchable")
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

        with ui.guard("re-ingesting the corpus") as done:
            report = ui.index().ingest(ui.corpus(), progress=tick)
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
    with ui.guard("listing approved plans"):
        approved = svc.review.list_plans(user, status="approved")
    if not approved:
        st.info("No approved plans yet.", icon=":material/inbox:")
    else:
        labels = {p.id: f"#{p.id} · {p.seniority} {p.role} · revision {p.revision}" for p in approved}
        pid = st.selectbox("Approved plan", list(labels), format_func=labels.__getitem__, key="co_promote_pick")
        with ui.guard("building the case study") as built:
            from tailor.corpus.promote import case_study_from_plan

            detail = svc.review.get_plan(user, pid)
            case = case_study_from_plan(detail.plan, pid, taken_ids=corpus.by_id(), keep_urls=corpus.urls())
            ui.validate_document_text(case.text, case.filename)
        if built.ok:
            st.markdown(
                f"Will be saved as `case-studies/{case.filename}`: **{ui.safe(case.meta.title)}**, "
                f"{len(case.meta.tasks)} tasks."
            )
            with st.expander("Preview the document"):
                st.code(case.text, language="markdown")
            if st.button("Add to the corpus", type="primary", icon=":material/library_add:", key="co_promote"):
                with ui.guard("adding the case study") as added:
                    path = ui.save_document(corpus_dir, case.filename, case.text, overwrite=False)
                if added.ok:
                    ui.flash(f"Added {path.name}; re-ingest to make it searchable")
                    st.rerun()
