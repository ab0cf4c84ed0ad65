"""Pairs of cases: two hires for the same role, level and team with contrasting backgrounds (issue #12).

A case joins a pair with ``pair: <name>`` in its metadata. :func:`find_pairs` checks the
declarations when the cases load (exactly two cases, same team, same expected role and level).
After every case has been drafted and evaluated, the runner gives each pair whose two cases ran to
the pair evaluators (:data:`PAIR_EVALUATORS`); their verdicts count in the pass rate like a case's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic_evals import Case

from tailor.errors import BadInput
from tailor.evals.evaluators import DraftOutcome, Expected
from tailor.evals.tailoring import divergence
from tailor.schema import DraftRequest, Plan

EvalCase = Case[DraftRequest, DraftOutcome, Expected]


@dataclass(frozen=True)
class PairSpec:
    """A declared pair: its name, its two cases (in file order) and the team both join."""

    name: str
    cases: tuple[str, str]
    team: str | None = None


def _meta(case: EvalCase) -> Expected:
    meta = case.metadata
    return meta if isinstance(meta, Expected) else Expected.model_validate(meta or {})


def find_pairs(cases: Sequence[EvalCase]) -> list[PairSpec]:
    """The pairs the cases declare, in order of first appearance; :class:`BadInput` names a malformed one."""
    groups: dict[str, list[EvalCase]] = {}
    for case in cases:
        name = _meta(case).pair
        if name:
            groups.setdefault(name, []).append(case)
    pairs: list[PairSpec] = []
    problems: list[str] = []
    for name, members in groups.items():
        names = [c.name or "" for c in members]
        if len(members) != 2:
            problems.append(f"pair {name!r} has {len(members)} cases ({', '.join(names)}); a pair needs exactly two")
            continue
        a, b = members
        ma, mb = _meta(a), _meta(b)
        if a.inputs.team != b.inputs.team:
            problems.append(f"pair {name!r}: {names[0]} and {names[1]} join different teams")
        for what in ("role_family", "seniority"):
            if getattr(ma, what) != getattr(mb, what) or getattr(ma, what) is None:
                problems.append(f"pair {name!r}: {names[0]} and {names[1]} must expect the same {what}")
        if ma.expect_error or mb.expect_error:
            problems.append(f"pair {name!r}: a pair compares two plans, so neither case may expect an error")
        pairs.append(PairSpec(name, (names[0], names[1]), a.inputs.team))
    if problems:
        raise BadInput("; ".join(problems))
    return pairs


# --------------------------------------------------------------------------- pair evaluators
@dataclass(frozen=True)
class PairContext:
    """What a pair evaluator sees: the pair and the two cases' outcomes."""

    pair: PairSpec
    first: DraftOutcome
    second: DraftOutcome


@dataclass(frozen=True)
class PairVerdict:
    evaluator: str
    passed: bool
    reason: str
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Divergence:
    """The two plans of a pair differ in at least ``min_share`` of their task texts (issue #12: >= 0.40).

    Task text is title plus description, normalised (case, punctuation and spacing); the measure
    is ``tailoring.divergence``. Also reported as the score ``divergence``.
    """

    min_share: float = 0.40

    @property
    def name(self) -> str:
        return type(self).__name__

    def evaluate(self, ctx: PairContext) -> PairVerdict:
        plans: list[Plan] = []
        for case, outcome in zip(ctx.pair.cases, (ctx.first, ctx.second), strict=True):
            if outcome.plan is None:
                reason = f"no plan for {case}: {outcome.error_kind or 'error'}: {outcome.error_message}"
                return PairVerdict(self.name, False, reason)
            plans.append(outcome.plan)
        score = divergence(plans[0], plans[1])
        reason = (
            f"{score.share:.2f} of task texts differ (target {self.min_share:.2f}): "
            f"{2 * score.shared} of {score.total} task texts are shared ({score.shared} tasks in both plans)"
        )
        return PairVerdict(self.name, score.share >= self.min_share, reason, {"divergence": round(score.share, 4)})


PAIR_EVALUATORS: tuple[Divergence, ...] = (Divergence(),)


def evaluate_pair(pair: PairSpec, outcomes: dict[str, DraftOutcome]) -> list[PairVerdict]:
    """Every pair evaluator's verdict on one pair; both of its cases must have an outcome."""
    ctx = PairContext(pair, outcomes[pair.cases[0]], outcomes[pair.cases[1]])
    return [e.evaluate(ctx) for e in PAIR_EVALUATORS]
