"""Streamlit helpers for the pages in ``pages/``: presentation only, no rules.

session    who is signed in, toasts across reruns, the plan last opened
services   the cached services, corpus, engine and index; background warm-up
text       user text made literal (``safe``), labels for statuses and roles
errors     what a person sees when an action fails (``guard``, ``error_text``)
profile    New plan steps 1-3: background in, profile read and confirmed, grounding
drafting   New plan step 4: draft with progress, save the plan
tables     plans, tasks, sources, revisions and diffs as frames
editing    the Edit tab's rules: a task form's fields back into a validated ``Plan``
plan_edit  the Edit tab: the task picker and form, the hire's details
history    the History tab's default comparison ("since you last looked")
charts     the plan's timeline
plan_view  items flagged for review, the passage a task cites, people to meet
fit_view   the "Why this plan" block (rationale, team, strengths, gaps, skipped basics)
corpus_page the Corpus page: documents and teams as frames, adding a document through the writer
evals      the Evals page: running the suite in the background, history charts

Rules live in the package: permissions in ``tailor.review``, corpus writing in
``tailor.corpus.writer``, export file names in ``tailor.exports``.
"""
