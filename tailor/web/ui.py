"""Streamlit helpers the pages share: services, sign-in state, errors, progress, tables and charts.

The pages stay thin: they lay out widgets and call the package. What is here is UI glue,
plus a few small pure functions the pages need and no other module offers (reading the
profile without the model, turning edited table rows back into a ``Plan``, finding the
passage a task cites); they take plain values so tests call them without Streamlit.

Everything beyond Streamlit and the settings (SQLAlchemy, pandas, chromadb, litellm, the
engine) is imported inside the functions that need it, so a cold server paints the sign-in
page before any of it loads; ``warm_up_services`` loads the database side in the background
meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from tailor.config import Settings, get_settings
from tailor.errors import (
    BadInput,
    Conflict,
    IllegalTransition,
    IndexUnavailable,
    ModelUnavailable,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    TailorError,
)

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd
    from pydantic import ValidationError

    from tailor.corpus.documents import Corpus, CorpusDoc, Section
    from tailor.corpus.index import CorpusIndex, DocHit
    from tailor.pipeline.engine import Engine
    from tailor.pipeline.intake import ProfileReading
    from tailor.review.auth import AuthService, Role, UserOut
    from tailor.review.service import PlanSummary, ReviewService, RevisionDiff
    from tailor.schema import DraftRequest, HireProfile, Plan, ProgressEvent, Task

log = logging.getLogger("tailor.web.ui")

TOKEN_KEY = "tailor_token"
USER_KEY = "tailor_user"
NOTICE_KEY = "tailor_notice"

ROLE_LABELS: dict[str, str] = {"manager": "Manager", "hr": "HR", "admin": "Admin"}
STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "in_review": "In review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
}
OWNERS: tuple[str, ...] = ("hire", "manager", "buddy", "mentor", "hr", "it", "team")

# What a person can do next, by error kind; the error's own message says what went wrong.
NEXT_STEP: dict[type[TailorError], str] = {
    BadInput: "Correct the input and try again.",
    Conflict: "Reload to see the latest revision, then reapply your change.",
    PermissionDenied: "If you think you should be allowed, ask an admin.",
    NotFound: "It may have been removed; go back to the list and pick another.",
    IllegalTransition: "Reload to see the plan's current status.",
    ModelUnavailable: "The grounded plan still stands; try again later or choose another model.",
    IndexUnavailable: "Ask an admin to re-ingest the corpus (Corpus page, or `tailor ingest`).",
    StorageUnavailable: "The database is unreachable; try again in a minute or tell an admin.",
}
GENERIC_ERROR = (
    "Something went wrong while {action}. Nothing was lost; try again, and tell an admin if it keeps happening."
)


# =========================================================================== services
@dataclass(frozen=True)
class Services:
    settings: Settings
    auth: AuthService
    review: ReviewService


def _settings_key(settings: Settings) -> str:
    """Every setting, so a cached service never outlives a change (tests switch data dirs)."""
    return hashlib.sha256(settings.model_dump_json().encode()).hexdigest()[:16]


# Parameters starting with "_" are not hashed by st.cache_*: the key says which settings, and
# the settings object itself is handed over, so a background thread never builds from another
# test's environment.
@st.cache_resource(show_spinner=False, max_entries=16)
def _services(key: str, _settings: Settings) -> Services:
    from tailor.review.auth import AuthService
    from tailor.review.service import ReviewService

    auth = AuthService(_settings)
    # One database handle for both services: one connection pool, one migration check.
    return Services(settings=_settings, auth=auth, review=ReviewService(_settings, db=auth.db))


def services(settings: Settings | None = None) -> Services:
    """The process-wide services for the current settings."""
    settings = settings or get_settings()
    return _services(_settings_key(settings), settings)


def corpus_signature(root: Path) -> str:
    """Changes whenever a corpus file is added, removed or edited, so cached readers reload."""
    if not root.is_dir():
        return "missing"
    parts = [f"{p}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in sorted(root.rglob("*.md")) if p.is_file()]
    return "|".join(parts)


@st.cache_resource(show_spinner=False, max_entries=4)
def _corpus(root: str, signature: str) -> Corpus:
    from tailor.corpus.documents import load_corpus

    return load_corpus(Path(root))


def corpus() -> Corpus:
    root = get_settings().corpus_dir
    return _corpus(str(root), corpus_signature(root))


@st.cache_resource(show_spinner=False, max_entries=4)
def _engine(key: str, signature: str, _settings: Settings) -> Engine:
    from tailor.corpus.documents import load_corpus
    from tailor.pipeline.engine import Engine

    return Engine(_settings, corpus=load_corpus(_settings.corpus_dir))


def engine(settings: Settings | None = None) -> Engine:
    """One engine per process (and per corpus version): it loads the corpus and the index once."""
    settings = settings or get_settings()
    return _engine(_settings_key(settings), corpus_signature(settings.corpus_dir), settings)


@st.cache_resource(show_spinner=False, max_entries=16)
def _index(key: str, _settings: Settings) -> CorpusIndex:
    from tailor.corpus.index import CorpusIndex

    return CorpusIndex.open(_settings)


def index(settings: Settings | None = None) -> CorpusIndex:
    settings = settings or get_settings()
    return _index(_settings_key(settings), settings)


# =========================================================================== sign-in state
def current_user() -> UserOut | None:
    """The signed-in user, re-checked against the database on every run (expiry, deactivation)."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    try:
        user = services().auth.user_for_token(token)
    except PermissionDenied as exc:
        sign_out_locally(notice=exc.message)
        return None
    st.session_state[USER_KEY] = user
    return user


def sign_in(username: str, password: str) -> UserOut:
    session = services().auth.authenticate(username, password)
    st.session_state[TOKEN_KEY] = session.token
    st.session_state[USER_KEY] = session.user
    st.session_state.pop(NOTICE_KEY, None)
    return session.user


def sign_out_locally(notice: str | None = None) -> None:
    """Forget everything this browser session held: the token and every page's state."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[NOTICE_KEY] = notice


def sign_out() -> None:
    token = st.session_state.get(TOKEN_KEY)
    if token:
        try:
            services().auth.sign_out(token)
        except TailorError:
            log.warning("sign-out could not be recorded", exc_info=True)
    sign_out_locally(notice="You are signed out.")


def require_user(*roles: Role) -> UserOut:
    """The signed-in user; stops the page with a message when the role may not use it."""
    from tailor.review.auth import UserOut

    user = st.session_state.get(USER_KEY)
    if not isinstance(user, UserOut):
        user = current_user()
    if user is None:
        st.warning("Your session ended. Sign in again.")
        st.stop()
    if roles and user.role not in roles:
        allowed = ", ".join(ROLE_LABELS[r] for r in roles)
        st.warning(f"This page is for {allowed} users; you are signed in as {ROLE_LABELS[user.role]}.")
        st.stop()
    return user


# =========================================================================== errors
def error_text(exc: BaseException, action: str) -> str:
    """The one-line message a person sees: the error's own message and what to do next."""
    if isinstance(exc, TailorError):
        hint = next((text for kind, text in NEXT_STEP.items() if isinstance(exc, kind)), "")
        return f"{exc.message} — {hint}" if hint else exc.message
    return GENERIC_ERROR.format(action=action)


def show_error(exc: BaseException, action: str) -> None:
    if not isinstance(exc, TailorError):
        log.error("unexpected error while %s", action, exc_info=exc)
    st.error(safe(error_text(exc, action)), icon=":material/error:")


@dataclass
class Outcome:
    ok: bool = True
    error: BaseException | None = None


@contextmanager
def guard(action: str) -> Iterator[Outcome]:
    """Run a user action: a ``TailorError`` shows its message, anything else a short generic one.

    Streamlit's own control flow (``st.rerun``, ``st.stop``) derives from ``BaseException``
    and passes through untouched.
    """
    outcome = Outcome()
    try:
        yield outcome
    except Exception as exc:
        outcome.ok = False
        outcome.error = exc
        show_error(exc, action)


def flash(message: str, icon: str = ":material/check_circle:") -> None:
    """A toast that survives the ``st.rerun`` that usually follows a save."""
    st.session_state.setdefault("tailor_flash", []).append((message, icon))


def show_flashes() -> None:
    for message, icon in st.session_state.pop("tailor_flash", []):
        st.toast(message, icon=icon)


# =========================================================================== safe text
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~$])")


def safe(text: object) -> str:
    """User text as literal Markdown: no links, images, HTML or LaTeX can be smuggled in.

    A bare URL is still shown as a link by Streamlit's autolinker, but its target is the text
    the reader sees; what is escaped is every way to hide a target behind other text.
    """
    lines = str(text).replace("\r\n", "\n").split("\n")
    out = []
    for line in lines:
        escaped = _MD_SPECIAL.sub(r"\\\1", line)
        # A leading "-", "1." or "=" would start a list or a heading underline.
        escaped = re.sub(r"^(\s*)([-=]|\d+\.)", lambda m: m.group(1) + "\\" + m.group(2), escaped)
        out.append(escaped)
    return "  \n".join(out)


def shorten(text: str, limit: int = 240) -> str:
    """One line of at most ``limit`` characters (model errors can be long)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def pick_plan(label: str, labels: dict[int, str], key: str) -> int:
    """A plan selector that opens on the plan last worked on and remembers the choice across pages."""
    ids = list(labels)
    preferred = st.session_state.get("plan_id")
    plan_id: int = st.selectbox(
        label,
        ids,
        index=ids.index(preferred) if preferred in ids else 0,
        format_func=labels.__getitem__,
        key=key,
    )
    st.session_state["plan_id"] = plan_id
    return plan_id


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


# =========================================================================== intake, retrieval
def read_profile(background: str, name: str | None, start_date: date | None, corpus_: Corpus) -> ProfileReading:
    """The hire profile from rules alone (no model): instant, deterministic, for the confirm form.

    The engine's own first step (``pipeline.intake.read_profile``), so the form shows what a draft will use.
    """
    from tailor.pipeline.intake import Vocabulary
    from tailor.pipeline.intake import read_profile as read
    from tailor.schema import DraftRequest

    request = DraftRequest(background=background, name=name or None, start_date=start_date)
    reading = read(request, Vocabulary.from_corpus(corpus_), corpus_.urls())
    # The rules-only summary is a stand-in; the engine writes the real one. Its flag is noise here.
    reading.flags = [f for f in reading.flags if f.field != "hire.summary"]
    return reading


def skill_options(corpus_: Corpus, current: Sequence[str]) -> list[str]:

    from tailor.pipeline.intake import Vocabulary

    known = sorted(set(Vocabulary.from_corpus(corpus_).skills.values()), key=str.lower)
    return list(dict.fromkeys([*current, *known]))


def retrieve(hire: HireProfile) -> tuple[list[DocHit], list[DocHit]]:
    """Role profiles (2) and case studies (3) most like this hire, with their best passages."""
    idx = index()
    from tailor.pipeline.engine import retrieval_query

    query = retrieval_query(hire)
    return idx.search_docs(query, k=2, kind="role_profile"), idx.search_docs(query, k=3, kind="case_study")


@st.cache_data(show_spinner=False, ttl=900, max_entries=64)
def _retrieve_cached(key: str, corpus_sig: str, hire_json: str) -> tuple[list[DocHit], list[DocHit]]:
    from tailor.schema import HireProfile

    return retrieve(HireProfile.model_validate_json(hire_json))


def retrieve_cached(hire: HireProfile) -> tuple[list[DocHit], list[DocHit]]:
    settings = get_settings()
    return _retrieve_cached(_settings_key(settings), corpus_signature(settings.corpus_dir), hire.model_dump_json())


_WARMED: set[str] = set()
_WARM_LOCK = threading.Lock()


def warm_up() -> None:
    """Build the engine, import the model layer and open the index in the background, once.

    Importing litellm alone takes seconds on this machine; doing it while the manager types
    and confirms the profile means Generate shows the grounded skeleton at once.
    """
    settings = get_settings()
    key = _settings_key(settings)
    with _WARM_LOCK:
        if key in _WARMED:
            return
        _WARMED.add(key)

    def work() -> None:
        try:
            engine(settings)  # the corpus, loaded once and cached for the Generate click
            import tailor.models.llm  # noqa: F401  (litellm)
            from tailor.corpus.embeddings import get_embedder

            index(settings).count()
            get_embedder().embed_query("warm-up")
        except Exception:
            log.debug("warm-up failed; the first draft will load what it needs", exc_info=True)

    threading.Thread(target=work, name="tailor-warm-up", daemon=True).start()


def warm_up_services() -> None:
    """Import the database side, migrate, then import the model layer, in the background, once.

    Called while the sign-in page paints, so signing in does not wait for SQLAlchemy, pandas
    and the migrations on a cold server, and the first draft does not wait for litellm.
    """
    settings = get_settings()
    key = "services|" + _settings_key(settings)
    with _WARM_LOCK:
        if key in _WARMED:
            return
        _WARMED.add(key)

    def work() -> None:
        try:
            import pandas  # noqa: F401

            import tailor.review.auth
            import tailor.review.service
            from tailor.store.db import ensure_schema

            ensure_schema(settings)
            # Then the model layer: litellm takes seconds to import, and the first draft needs it
            # before it can show the grounded skeleton.
            import tailor.models.llm  # noqa: F401
        except Exception:
            log.debug("warm-up failed; the first sign-in will load what it needs", exc_info=True)

    threading.Thread(target=work, name="tailor-warm-services", daemon=True).start()


def background_from(upload_name: str | None, upload_data: bytes | None, pasted: str, max_bytes: int) -> str:
    """The background text: an uploaded file wins over pasted text. Raises BadInput with a next step."""
    from tailor.pipeline.uploads import extract_text

    if upload_name is not None and upload_data is not None:
        return extract_text(upload_data, upload_name, max_bytes)
    if not pasted.strip():
        raise BadInput("paste the hire's background or upload a file first")
    return pasted


def draft_request(background: str, hire: HireProfile, name: str | None, model: str | None = None) -> DraftRequest:
    """The engine's input with the confirmed profile as overrides (so the model is not asked again)."""
    from tailor.schema import DraftRequest

    return DraftRequest(
        background=background,
        name=name or None,
        role=hire.role,
        role_family=hire.role_family,
        seniority=hire.seniority,
        years_experience=hire.years_experience,
        skills=list(hire.skills),
        start_date=hire.start_date,
        model=model,
    )


def intake_overrides(hire: HireProfile) -> dict[str, Any]:
    return {
        "role": hire.role,
        "role_family": hire.role_family,
        "seniority": hire.seniority,
        "years_experience": hire.years_experience,
        "skills": list(hire.skills),
    }


# =========================================================================== progress
EVENT_ICONS: dict[str, str] = {
    "saved": ":material/save:",
    "queued": ":material/hourglass_top:",
    "redacted": ":material/shield:",
    "profile": ":material/person:",
    "retrieved": ":material/search:",
    "skeleton": ":material/account_tree:",
    "tailored": ":material/auto_fix_high:",
    "validated": ":material/rule:",
    "done": ":material/check_circle:",
    "warning": ":material/warning:",
}


def event_line(event: ProgressEvent) -> str:
    return f"{EVENT_ICONS.get(event.kind, '')} {safe(event.message)} · {event.elapsed_s:.1f} s"


@dataclass
class DraftResult:
    plan: Plan | None = None
    events: list[ProgressEvent] = field(default_factory=list)
    error: str | None = None

    @property
    def model_unavailable(self) -> bool:
        return self.error is not None or any(
            e.kind == "warning" and e.detail.get("model_unavailable") for e in self.events
        )

    @property
    def warnings(self) -> list[str]:
        found = [e.message for e in self.events if e.kind == "warning"]
        return [f"drafting stopped early: {self.error}", *found] if self.error else found


def run_draft(
    events: Iterator[ProgressEvent],
    on_event: Callable[[ProgressEvent], None],
) -> DraftResult:
    """Drain the engine's events, handing each to the page as it arrives; the last plan wins.

    A failure after the grounded skeleton arrived does not cost the plan: the last plan seen is
    returned with a plan-level review flag saying drafting stopped early. A failure before any
    plan exists is raised.
    """
    from tailor.schema import ReviewFlag

    result = DraftResult()
    try:
        for event in events:
            result.events.append(event)
            if event.plan is not None:
                result.plan = event.plan
            on_event(event)
    except Exception as exc:
        if result.plan is None:
            raise
        if not isinstance(exc, TailorError):
            log.error("drafting stopped after the skeleton", exc_info=exc)
        result.error = exc.message if isinstance(exc, TailorError) else f"unexpected {type(exc).__name__}"
        plan = result.plan.model_copy(deep=True)
        plan.review_flags.append(
            ReviewFlag(
                field="plan",
                reason=f"drafting stopped after the grounded plan ({result.error}); it was not fully "
                "tailored or validated. Check it, or generate again.",
            )
        )
        result.plan = plan
    return result


# =========================================================================== tables
def plans_frame(plans: Sequence[PlanSummary]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "id": p.id,
                "hire": p.hire_name or "—",
                "role": p.role,
                "family": p.role_family,
                "seniority": p.seniority,
                "status": status_label(p.status),
                "manager": p.manager_name,
                "reviewer": p.reviewer_name or "—",
                "revision": p.revision,
                "tasks": p.task_count,
                "to check": p.needs_review,
                "start": p.start_date.isoformat() if p.start_date else "",
                "updated": p.updated_at,
            }
            for p in plans
        ],
        columns=[
            "id",
            "hire",
            "role",
            "family",
            "seniority",
            "status",
            "manager",
            "reviewer",
            "revision",
            "tasks",
            "to check",
            "start",
            "updated",
        ],
    )


TASK_COLUMNS = (
    "phase",
    "id",
    "title",
    "description",
    "owner",
    "due_week",
    "success_criteria",
    "sources",
    "needs_review",
    "review_reason",
)


def tasks_frame(plan: Plan) -> pd.DataFrame:
    import pandas as pd

    rows = [
        {
            "phase": phase.name,
            "id": t.id,
            "title": t.title,
            "description": t.description,
            "owner": t.owner,
            "due_week": t.due_week,
            "success_criteria": t.success_criteria,
            "sources": ", ".join(t.sources),
            "needs_review": t.needs_review,
            "review_reason": t.review_reason or "",
        }
        for phase in plan.phases
        for t in phase.tasks
    ]
    return pd.DataFrame(rows, columns=list(TASK_COLUMNS))


def preview_frame(plan: Plan) -> pd.DataFrame:
    """A compact view of a plan while it is being drafted."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "phase": phase.name,
                "task": t.title,
                "owner": t.owner,
                "week": t.due_week,
                "tailored": t.tailored,
                "check": t.needs_review,
            }
            for phase in plan.phases
            for t in phase.tasks
        ],
        columns=["phase", "task", "owner", "week", "tailored", "check"],
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "task"


def file_slug(text: str) -> str:
    """The hire part of an export's file name, spelled as ``tailor.exports.formats.filename`` spells it."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "hire"


def _blank(value: object) -> bool:
    import pandas as pd

    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return isinstance(value, str) and not value.strip()


def first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "value"
    return f"{where}: {err.get('msg', 'invalid')}"


def plan_from_rows(plan: Plan, rows: Sequence[dict[str, Any]], known_sources: set[str] | None = None) -> Plan:
    """The plan with its tasks replaced by the edited table rows, validated by the Plan schema.

    Rows keep their task's hidden fields (skills, tailored) by id; a new row gets an id from its
    title. Raises ``BadInput`` naming the row and the field, so the editor can say what to fix.
    """
    from pydantic import ValidationError

    from tailor.schema import Plan, Task

    originals = {t.id: t for t in plan.all_tasks()}
    by_phase: dict[str, list[dict[str, Any]]] = {p.name: [] for p in plan.phases}
    used: set[str] = set()
    for number, row in enumerate(rows, 1):
        if all(_blank(row.get(c)) for c in TASK_COLUMNS if c != "needs_review"):
            continue  # an empty row the editor added and left
        title = "" if _blank(row.get("title")) else str(row["title"]).strip()
        label = f"row {number}" + (f" ({title[:40]})" if title else "")
        phase = "" if _blank(row.get("phase")) else str(row["phase"])
        if phase not in by_phase:
            raise BadInput(f"{label}: choose a phase ({', '.join(by_phase)})")
        task_id = "" if _blank(row.get("id")) else str(row["id"]).strip()
        if not task_id:
            # A new row: an id from its title that no other row (kept or not yet seen) uses.
            base, n = _slug(title), 2
            task_id = base
            while task_id in used or task_id in originals:
                task_id = f"{base}-{n}"
                n += 1
        if task_id in used:
            raise BadInput(f"{label}: the id {task_id!r} is used by another row; ids must be unique")
        used.add(task_id)
        sources = [] if _blank(row.get("sources")) else [s.strip() for s in str(row["sources"]).split(",") if s.strip()]
        unknown = [s for s in sources if known_sources is not None and s not in known_sources]
        if unknown:
            raise BadInput(f"{label}: unknown source {', '.join(unknown)}; cite corpus document ids")
        flagged = bool(row.get("needs_review")) and not _blank(row.get("needs_review"))
        reason = None if _blank(row.get("review_reason")) else str(row["review_reason"]).strip()
        original = originals.get(task_id)
        due = row.get("due_week")
        data = {
            "id": task_id,
            "title": title,
            "description": "" if _blank(row.get("description")) else str(row["description"]),
            "owner": "" if _blank(row.get("owner")) else str(row["owner"]),
            "due_week": None if _blank(due) else int(float(due)),  # type: ignore[arg-type]
            "success_criteria": "" if _blank(row.get("success_criteria")) else str(row["success_criteria"]),
            "sources": sources,
            "skills": list(original.skills) if original else [],
            "tailored": original.tailored if original else False,
            "needs_review": flagged,
            "review_reason": reason if flagged else None,
        }
        try:
            task = Task.model_validate(data)
        except ValidationError as exc:
            raise BadInput(f"{label}: {first_problem(exc)}") from None
        by_phase[phase].append(task.model_dump(mode="json"))
    if not any(by_phase.values()):
        raise BadInput("the plan has no tasks left; add at least one row")
    plan_data: dict[str, Any] = plan.model_dump(mode="json", by_alias=True)
    for phase_data in plan_data["phases"]:
        phase_data["tasks"] = sorted(by_phase[phase_data["name"]], key=lambda t: t["due_week"])
    try:
        return Plan.model_validate(plan_data)
    except ValidationError as exc:
        raise BadInput(f"the edited plan is not valid: {first_problem(exc)}") from None


def _short(value: Any, limit: int = 300) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff_frame(diff: RevisionDiff) -> pd.DataFrame:
    """A revision diff as rows: what changed, where, before and after."""
    import pandas as pd

    rows: list[dict[str, str]] = []
    for task in diff.added:
        rows.append({"change": "added task", "task": task.title, "field": "", "before": "", "after": task.description})
    for task in diff.removed:
        rows.append(
            {
                "change": "removed task",
                "task": task.title,
                "field": "",
                "before": task.description,
                "after": "",
            }
        )
    for change in diff.changed:
        for f in change.changes:
            rows.append(
                {
                    "change": "changed task",
                    "task": change.title,
                    "field": f.path,
                    "before": _short(f.before),
                    "after": _short(f.after),
                }
            )
    for f in diff.plan_changes:
        rows.append(
            {
                "change": "changed plan",
                "task": "",
                "field": f.path,
                "before": _short(f.before),
                "after": _short(f.after),
            }
        )
    return pd.DataFrame(rows, columns=["change", "task", "field", "before", "after"])


def review_items(plan: Plan) -> list[tuple[str, str]]:
    """Everything flagged for a human, as (what, why)."""
    items = [(f"Plan: {f.field}", f.reason) for f in plan.review_flags]
    items += [(f"Task: {t.title}", t.review_reason or "flagged") for t in plan.all_tasks() if t.needs_review]
    items += [(f"Risk: {r.risk[:60]}", r.review_reason or "flagged") for r in plan.risks if r.needs_review]
    return items


# =========================================================================== citations
_WORD = re.compile(r"[a-z0-9]{4,}")


def cited_passage(doc: CorpusDoc, task: Task) -> Section | None:
    """The section of ``doc`` a task most likely came from: the one naming its title, else by word overlap."""
    sections = doc.sections()
    if not sections:
        return None
    title = task.title.lower()
    for section in sections:
        if title in section.text.lower():
            return section
    words = set(_WORD.findall(f"{task.title} {task.description}".lower()))
    best = max(sections, key=lambda s: len(words & set(_WORD.findall(s.text.lower()))))
    return best


# =========================================================================== charts
def timeline_chart(plan: Plan) -> alt.Chart:
    """Tasks as bars by due week, one row per task, coloured by owner."""
    import altair as alt
    import pandas as pd

    rows = [
        {
            "task": t.title,
            "owner": t.owner,
            "phase": phase.name,
            "week": t.due_week,
            "until": t.due_week + 1,
            "check": "needs review" if t.needs_review else "",
        }
        for phase in plan.phases
        for t in phase.tasks
    ]
    frame = pd.DataFrame(rows, columns=["task", "owner", "phase", "week", "until", "check"])
    height = max(120, 24 * len(frame))
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadius=3)
        .encode(
            x=alt.X("week:Q", title="Week (0 = before day 1)", scale=alt.Scale(domain=[0, 14])),
            x2="until:Q",
            y=alt.Y(
                "task:N",
                sort=alt.EncodingSortField(field="week", order="ascending"),
                title=None,
                axis=alt.Axis(labelLimit=320),
            ),
            color=alt.Color("owner:N", title="Owner"),
            tooltip=["task", "owner", "phase", "week", "check"],
        )
        .properties(height=height)
    )


_FILENAME = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}\.md$")
CORPUS_FOLDERS: dict[str, str] = {"role_profile": "roles", "case_study": "case-studies"}


def plain_md_name(filename: str) -> str:
    """The name checks, before anything touches the file system (a NUL byte must never reach it)."""
    name = filename.strip()
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise BadInput(f"{filename!r} is not a plain file name: no folders, no '..'")
    if not name.endswith(".md"):
        raise BadInput(f"{filename!r} must end in .md")
    if not _FILENAME.match(name):
        raise BadInput(f"{filename!r}: use lowercase letters, digits and dashes, like 'case-my-story.md'")
    return name


def corpus_target(corpus_dir: Path, filename: str, kind: str) -> Path:
    """Where a corpus document may be saved: inside the corpus folder, nowhere else.

    The name must be a plain ``.md`` file name: no path separators, no ``..``, lowercase
    letters, digits and dashes only. The resolved path is checked against the folder too.
    """
    name = plain_md_name(filename)
    if kind not in CORPUS_FOLDERS:
        raise BadInput(f"unknown document kind {kind!r}")
    root = corpus_dir.resolve()
    target = (root / CORPUS_FOLDERS[kind] / name).resolve()
    if not target.is_relative_to(root):
        raise BadInput(f"{filename!r} would be written outside the corpus folder")
    return target


def validate_document_text(text: str, filename: str = "document.md") -> CorpusDoc:
    """Validate a document's front matter and body as ``load_document`` does, via a temp file."""
    import tempfile

    from tailor.corpus.documents import CorpusError, load_document

    with tempfile.TemporaryDirectory(prefix="tailor-doc-") as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_text(text, encoding="utf-8")
        result = load_document(path)
    if isinstance(result, CorpusError):
        raise BadInput(f"{result.field}: {result.message}")
    return result


def save_document(corpus_dir: Path, filename: str, text: str, *, overwrite: bool) -> Path:
    """Validate, then write a corpus document into its kind's folder. Ids must stay unique."""
    from tailor.corpus.documents import load_corpus

    plain_md_name(filename)
    doc = validate_document_text(text, filename)
    target = corpus_target(corpus_dir, filename, doc.kind)
    if target.stem != doc.id:
        raise BadInput(f"the file name must match the document id: save it as {doc.id}.md")
    existing = load_corpus(corpus_dir).by_id().get(doc.id)
    if existing is not None and existing.path.resolve() != target:
        raise BadInput(f"the id {doc.id!r} is already used by {existing.path.name}")
    if target.exists() and not overwrite:
        raise BadInput(f"{target.name} already exists; tick 'replace it' to overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    tmp.replace(target)
    return target
