"""What one draft gives back: the plan, the prompts sent, the timings, and whether the model answered.

``Engine.draft`` returns a ``DraftResult``; ``Engine.draft_events`` ends with a ``DraftDone``
event that carries the same object, so a front end that shows progress gets it too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, computed_field

from tailor.corpus.teams import TeamProfileMeta
from tailor.pipeline.personalise import CallOutcome
from tailor.pipeline.privacy import PeopleMask
from tailor.schema import Plan, ProgressEvent, StepTiming


class DraftResult(BaseModel):
    plan: Plan
    prompts: list[list[dict[str, str]]] = Field(
        default_factory=list, description="Every prompt sent to the model, in order, as sent (redacted)."
    )
    timings: list[StepTiming] = Field(default_factory=list, description="Each step's time, tokens and model time.")
    model_calls: int = Field(default=0, description="Model calls the draft made (answered or not).")
    model_failures: list[str] = Field(default_factory=list, description="Why each failed model call failed.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def model_available(self) -> bool:
        """False when every model call failed: the plan is the grounded one, flagged where untailored."""
        return not (self.model_calls and len(self.model_failures) >= self.model_calls)

    @property
    def unavailable_reason(self) -> str | None:
        """The first failure's reason when the model was unavailable, else None."""
        return None if self.model_available else self.model_failures[0]


class DraftDone(ProgressEvent):
    """The last event of a draft: ``plan`` is the final plan, ``result`` everything else about the draft."""

    result: DraftResult


@dataclass
class DraftRun:
    """The engine's record of one draft while it runs: timings, prompts sent, failures."""

    started: float = field(default_factory=time.perf_counter)
    timings: list[StepTiming] = field(default_factory=list)
    prompts: list[list[dict[str, str]]] = field(default_factory=list)
    retries: int = 0
    fallbacks: list[str] = field(default_factory=list)
    model_failures: list[str] = field(default_factory=list)
    model_calls: int = 0
    crashed: str | None = None
    """Set when the local model crashed: the rest of this draft keeps its grounded text."""
    team: TeamProfileMeta | None = None
    """The team the hire joins (``DraftRequest.team``), if the manager chose one."""
    mask: PeopleMask | None = None
    """Set when prompts go to a model that must not see colleagues' names."""

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def time_call(self, step: str, t0: float, outcome: CallOutcome) -> None:
        """Record a model step: its wall time since ``t0``, and the call's model time and tokens."""
        self.timings.append(
            StepTiming(
                step=step,
                seconds=time.perf_counter() - t0,
                model_seconds=outcome.seconds,
                prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens,
            )
        )

    def stamp(self, plan: Plan, redactions: int) -> None:
        """Write what the run knows so far into the plan's provenance."""
        plan.provenance.timings = [t.model_copy() for t in self.timings]
        plan.provenance.retries = self.retries
        plan.provenance.fallbacks = list(self.fallbacks)
        plan.provenance.redactions = redactions

    def result(self, plan: Plan) -> DraftResult:
        return DraftResult(
            plan=plan,
            prompts=self.prompts,
            timings=self.timings,
            model_calls=self.model_calls,
            model_failures=self.model_failures,
        )
