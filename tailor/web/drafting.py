"""Step 4 of the New plan page: draft the plan, show the engine's progress, save the result.

The engine yields an event after each step; the page shows each as it arrives, and the
grounded skeleton appears within seconds while the model tailors it. The last event
(``DraftDone``) carries the engine's own account of the draft, including whether the model
answered. A failure after the skeleton does not cost the plan: it is saved with a flag.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tailor.errors import BadInput, TailorError
from tailor.web.text import safe

if TYPE_CHECKING:
    from tailor.pipeline.engine import Engine
    from tailor.pipeline.result import DraftResult
    from tailor.review.auth import UserOut
    from tailor.review.service import ReviewService
    from tailor.schema import DraftRequest, HireProfile, Plan, ProgressEvent

log = logging.getLogger("tailor.web")

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
    """One progress line: an icon for the step, what happened (literal), and when."""
    return f"{EVENT_ICONS.get(event.kind, '')} {safe(event.message)} · {event.elapsed_s:.1f} s"


def intake_overrides(hire: HireProfile, team: str | None = None) -> dict[str, Any]:
    """The confirmed profile and the chosen team, saved with the draft input so a retry drafts the same hire.

    ``team`` is always present (None for "No team"), so saving it over an earlier choice clears that choice.
    """
    return {
        "role": hire.role,
        "role_family": hire.role_family,
        "seniority": hire.seniority,
        "years_experience": hire.years_experience,
        "skills": list(hire.skills),
        "team": team or None,
    }


def draft_request(
    background: str, hire: HireProfile, name: str | None, team: str | None = None, model: str | None = None
) -> DraftRequest:
    """The engine's input: the confirmed profile as overrides (so the model is not asked again) and the team."""
    from tailor.schema import DraftRequest

    return DraftRequest(
        background=background,
        name=name or None,
        start_date=hire.start_date,
        model=model,
        **intake_overrides(hire, team),
    )


@dataclass
class DraftRun:
    """What the page saw of one draft: every event, the latest plan, and how drafting ended."""

    plan: Plan | None = None
    events: list[ProgressEvent] = field(default_factory=list)
    result: DraftResult | None = None  # the engine's own account, from its last event
    error: str | None = None  # why drafting stopped after the skeleton, if it did

    @property
    def model_unavailable(self) -> bool:
        """True when the plan is (at best) the grounded one: drafting stopped, or no model call was answered."""
        return self.error is not None or (self.result is not None and not self.result.model_available)

    @property
    def warnings(self) -> list[str]:
        """Every step that fell back to the grounded text, with a stop first."""
        found = [e.message for e in self.events if e.kind == "warning"]
        return [f"drafting stopped early: {self.error}", *found] if self.error else found

    @property
    def seconds(self) -> float:
        return self.events[-1].elapsed_s if self.events else 0.0


def run_draft(events: Iterator[ProgressEvent], on_event: Callable[[ProgressEvent], None]) -> DraftRun:
    """Drain the engine's events, handing each to the page as it arrives; the last plan wins.

    A failure after the grounded skeleton arrived does not cost the plan: the last plan seen is
    returned with a plan-level review flag saying drafting stopped early. A failure before any
    plan exists is raised.
    """
    from tailor.pipeline.result import DraftDone
    from tailor.schema import ReviewFlag

    run = DraftRun()
    try:
        for event in events:
            run.events.append(event)
            if event.plan is not None:
                run.plan = event.plan
            if isinstance(event, DraftDone):
                run.result = event.result
            on_event(event)
    except Exception as exc:
        if run.plan is None:
            raise
        if not isinstance(exc, TailorError):
            log.error("drafting stopped after the skeleton", exc_info=exc)
        run.error = exc.message if isinstance(exc, TailorError) else f"unexpected {type(exc).__name__}"
        plan = run.plan.model_copy(deep=True)
        plan.review_flags.append(
            ReviewFlag(
                field="plan",
                reason=f"drafting stopped after the grounded plan ({run.error}); it was not fully "
                "tailored or validated. Check it, or generate again.",
            )
        )
        run.plan = plan
    return run


def ensure_intake(
    review: ReviewService,
    user: UserOut,
    intake_id: int | None,
    background: str,
    hire: HireProfile,
    name: str | None,
    team: str | None = None,
) -> int:
    """The saved draft input to draft from, holding the confirmed profile and team, before any model call.

    The input the profile was read from gets them added; generating again from the same input
    saves it anew. Either way a failed draft can be resumed from Unfinished drafts as it was.
    """
    overrides = intake_overrides(hire, team)
    if intake_id is not None:
        review.update_intake(user, intake_id, overrides)
        return intake_id
    return review.save_intake(user, background, name=name or None, start_date=hire.start_date, overrides=overrides)


@dataclass(frozen=True)
class SavedDraft:
    """A drafted plan as saved, with what the page says about how it went."""

    plan_id: int
    tasks: int
    to_check: int
    model_unavailable: bool
    warnings: list[str]
    events: list[str]
    seconds: float

    @property
    def why_unavailable(self) -> str:
        """The first fallback's reason: what the manager needs to know when the model could not help."""
        return self.warnings[0] if self.warnings else "the model did not answer"


def draft_and_save(
    review: ReviewService,
    engine: Engine,
    user: UserOut,
    intake_id: int,
    request: DraftRequest,
    on_event: Callable[[ProgressEvent], None],
) -> SavedDraft:
    """Draft the plan and save it as a new plan from the draft input.

    Any failure is recorded on the draft input (so it shows why under Unfinished drafts) and raised.
    """
    try:
        run = run_draft(engine.draft_events(request), on_event)
        if run.plan is None:
            raise BadInput("the engine returned no plan; try again")
        detail = review.create_plan_from_draft(user, intake_id, run.plan)
    except Exception as exc:
        reason = exc.message if isinstance(exc, TailorError) else f"unexpected {type(exc).__name__}"
        with contextlib.suppress(TailorError):
            review.record_intake_failure(user, intake_id, reason)
        raise
    return SavedDraft(
        plan_id=detail.id,
        tasks=len(detail.plan.all_tasks()),
        to_check=detail.summary.needs_review,
        model_unavailable=run.model_unavailable,
        warnings=run.warnings,
        events=[event_line(e) for e in run.events],
        seconds=run.seconds,
    )
