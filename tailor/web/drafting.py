"""Step 4 of the New plan page: draft the plan, show the engine's progress, save the result.

The engine yields an event after each step; the page shows each as it arrives, and the
grounded skeleton appears within seconds while the model tailors it. The last event
(``DraftDone``) carries the engine's own account of the draft, including whether the model
answered. A failure after the skeleton does not cost the plan: it is saved with a flag.

Generate is idempotent per saved input: once a plan was drafted from it, drafting again says
what to do with the new draft (:class:`Again`: replace that plan, or keep both), and the review
service refuses a second plan from the same input without that choice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

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

    The input the profile was read from gets them added; without one, the input is saved anew.
    Either way a failed draft can be resumed from Unfinished drafts as it was. An input a plan was
    already drafted from is kept as it is: it records what that plan was drafted from.
    """
    overrides = intake_overrides(hire, team)
    if intake_id is not None:
        if review.get_intake(user, intake_id).status != "used":
            review.update_intake(user, intake_id, overrides)
        return intake_id
    return review.save_intake(user, background, name=name or None, start_date=hire.start_date, overrides=overrides)


@dataclass(frozen=True)
class Again:
    """What to do with a new draft from an input a plan was already drafted from: the manager's explicit choice.

    ``replace`` makes it the next revision of plan ``plan_id`` (which must still be at
    ``revision``, so an edit made meanwhile is never overwritten); ``keep_both`` saves a second plan.
    """

    choice: Literal["replace", "keep_both"]
    plan_id: int
    revision: int


def again_choices(review: ReviewService, user: UserOut, plan_id: int) -> tuple[dict[str, Again], dict[str, str]]:
    """The two ways to draft again from the input plan ``plan_id`` was drafted from, and how the page words each."""
    from tailor.web.text import status_label

    detail = review.get_plan(user, plan_id)
    where = f"revision {detail.revision}, {status_label(detail.status).lower()}"
    choices = {
        "replace": Again("replace", plan_id, detail.revision),
        "keep_both": Again("keep_both", plan_id, detail.revision),
    }
    labels = {
        "replace": f"Replace plan #{plan_id} ({where}); its earlier revisions stay in its History",
        "keep_both": f"Keep plan #{plan_id} and save the new draft as another plan",
    }
    return choices, labels


def drafted_as(plan_ids: list[int]) -> str:
    """Which plans were drafted from the input on screen, said before offering to draft again."""
    if len(plan_ids) == 1:
        return f"Plan #{plan_ids[0]} was drafted from this background."
    named = ", ".join(f"#{i}" for i in plan_ids[:-1]) + f" and #{plan_ids[-1]}"
    return f"Plans {named} were drafted from this background; the newest is #{plan_ids[-1]}."


@dataclass(frozen=True)
class SavedDraft:
    """A drafted plan as saved, with what the page says about how it went."""

    intake_id: int
    plan_id: int
    revision: int
    replaced: bool
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
    again: Again | None = None,
) -> SavedDraft:
    """Draft the plan and save it from the draft input: as a new plan, or as ``again`` says.

    Any failure is recorded on the draft input (so it shows why under Unfinished drafts) and raised.
    """
    try:
        run = run_draft(engine.draft_events(request), on_event)
        if run.plan is None:
            raise BadInput("the engine returned no plan; try again")
        if again is not None and again.choice == "replace":
            detail = review.replace_draft(user, intake_id, run.plan, expected_revision=again.revision)
        else:
            detail = review.create_plan_from_draft(user, intake_id, run.plan, keep_existing=again is not None)
    except Exception as exc:
        reason = exc.message if isinstance(exc, TailorError) else f"unexpected {type(exc).__name__}"
        with contextlib.suppress(TailorError):
            review.record_intake_failure(user, intake_id, reason)
        raise
    return SavedDraft(
        intake_id=intake_id,
        plan_id=detail.id,
        revision=detail.revision,
        replaced=again is not None and again.choice == "replace",
        tasks=len(detail.plan.all_tasks()),
        to_check=detail.summary.needs_review,
        model_unavailable=run.model_unavailable,
        warnings=run.warnings,
        events=[event_line(e) for e in run.events],
        seconds=run.seconds,
    )
