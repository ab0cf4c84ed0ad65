"""The plan pipeline, one module per stage, in the order a draft runs them.

    uploads      a résumé file (PDF, DOCX, text) -> plain text
    intake       text -> the hire's profile (rules first; a model only where they are unsure)
    privacy      personal data redacted before any model call
    (retrieval)  similar role profiles and case studies from the corpus index (``engine``)
    compose      the grounded skeleton: every task from the corpus, policies applied
    personalise  small model calls that tailor the summary and tasks
    validate     semantic checks on the whole plan
    engine       runs the stages and streams progress events

``prompts`` renders the versioned templates in ``prompts/``.
"""
