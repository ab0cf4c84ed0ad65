"""The plan engine: a hire's background in, a grounded, validated, tailored plan out.

    intake -> privacy -> retrieve -> compose (skeleton) -> tailor -> validate

``Engine.draft_events`` yields a ``ProgressEvent`` after each step, so a front
end can show the grounded skeleton at once and fill in tailored sections as
the model finishes them; the last event (``DraftDone``) carries the
``DraftResult``. ``Engine.draft`` runs the same steps and returns that result:
the plan, the prompts sent, the timings and whether the model was available.
A model that is slow, wrong or down never costs the grounded plan: what it
failed at is flagged ``needs_review`` with the reason.

The engine calls a model only through the ``ModelCaller`` it was given
(``tailor.models.caller``; the real litellm one by default), wrapped in the
response cache (``CachedModel``).

Run: ``tailor draft --background resume.txt --format json``
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel

from tailor import __version__
from tailor.config import Settings, get_settings
from tailor.corpus.documents import URL_RE, Corpus, load_corpus
from tailor.errors import BadInput, IndexUnavailable, ModelUnavailable, TailorError
from tailor.models.cached import CachedModel
from tailor.models.caller import ModelCaller
from tailor.pipeline.compose import compose
from tailor.pipeline.intake import ModelReading, ProfileReading, Vocabulary, read_profile, resolve_profile
from tailor.pipeline.personalise import (
    MAX_SKILLS,
    CallOutcome,
    TailorContext,
    apply_rewrites,
    apply_summary,
    fit_line,
    flag_failure,
    pick_tasks_to_tailor,
    policy_line,
    rewrite_model,
    skill_candidates,
    summary_model,
)
from tailor.pipeline.privacy import PeopleMask
from tailor.pipeline.prompts import prompt_set_version, render
from tailor.pipeline.result import DraftDone, DraftResult, DraftRun
from tailor.pipeline.validate import plan_problems
from tailor.review.flags import flag, headline, model_kind, open_flags
from tailor.schema import DraftRequest, HireProfile, Plan, ProgressEvent, ReviewFlag, SourceRef, StepTiming

if TYPE_CHECKING:
    from tailor.models.localworker import Ticket

log = logging.getLogger(__name__)
SUMMARY_SKILLS = 6  # a longer list was copied back whole by small models


class Engine:
    """Loads the corpus once; opens the index lazily, on first use. Drafts may run concurrently."""

    def __init__(
        self,
        settings: Settings | None = None,
        corpus: Corpus | None = None,
        model: ModelCaller | None = None,
    ) -> None:
        """``model`` answers every model call (default: the real one, ``LiteLLMModel``)."""
        self.settings = settings or get_settings()
        self.corpus = corpus or load_corpus(self.settings.corpus_dir)
        if not self.corpus.docs:
            raise TailorError(f"the corpus at {self.settings.corpus_dir} has no valid documents")
        self.vocab = Vocabulary.from_corpus(self.corpus)
        self.allowed_urls = self.corpus.urls()
        self._index: Any = None
        self._index_lock = threading.Lock()
        self.prompt_version = prompt_set_version(self.settings.prompts_dir)
        if model is None:
            from tailor.models.llm import LiteLLMModel

            model = LiteLLMModel()
        self.model = CachedModel(model, prompt_version=self.prompt_version, corpus_hash=self.corpus.content_hash)

    # ------------------------------------------------------------------ collaborators
    def warm_up(self, load_model: bool = False) -> None:
        """Pay the one-off costs (litellm import, index and embedder load) before the first draft.

        The front end calls this once per process so the skeleton appears within a second of a click.
        """
        from tailor.models import llm

        try:
            self._index_or_none().search_docs("warm up", k=1, kind="role_profile")
        except IndexUnavailable as exc:
            log.warning("index unavailable at warm-up: %s", exc)
        if load_model and llm.is_local_model(self.settings.model):
            llm.load_local_model(llm.local_model_name(self.settings.model), self.settings)

    def _index_or_none(self) -> Any:
        with self._index_lock:
            if self._index is None:
                from tailor.corpus.index import CorpusIndex

                self._index = CorpusIndex.open(self.settings)
            return self._index

    def _is_private(self, model: str) -> bool:
        from tailor.models.llm import model_is_private

        return bool(model_is_private(model, self.settings.api_base))

    def _call(
        self,
        run: DraftRun,
        model: str,
        response_model: type[BaseModel],
        messages: list[dict[str, str]],
        max_tokens: int,
    ) -> CallOutcome:
        """One model call; any failure becomes an outcome with its reason (the plan keeps its grounded text)."""
        from tailor.models.llm import is_local_model

        if run.mask:
            messages = [{**m, "content": run.mask.hide(m["content"])} for m in messages]
        run.prompts.append(messages)
        run.model_calls += 1
        if run.crashed is not None:
            run.model_failures.append(run.crashed)
            return CallOutcome(value=None, error=run.crashed, failure="crashed")
        try:
            result = self.model.call(
                response_model,
                messages,
                model=model,
                settings=self.settings,
                max_tokens=max_tokens,
                # A local model at low temperature gave the same invalid answer to each re-ask
                # (measured: three identical answers, 25-42 s each), so re-asking only costs time.
                max_retries=0 if is_local_model(model) else None,
            )
        except ModelUnavailable as exc:
            run.model_failures.append(str(exc))
            failure = getattr(exc, "kind", None)
            # The technical detail goes to the log here, and into the flag's detail; people read the flag's sentence.
            log.warning("model call failed: %s", exc)
            if failure == "crashed":
                # Calling again would restart the worker mid-draft and may crash it again; the next draft restarts it.
                run.crashed = _scrub(str(exc))
            return CallOutcome(value=None, error=_scrub(str(exc)), failure=failure)
        run.retries += result.retries
        return CallOutcome(
            value=result.value,
            seconds=result.seconds,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            retries=result.retries,
        )

    # ------------------------------------------------------------------ the pipeline
    def draft(self, request: DraftRequest) -> DraftResult:
        """Run every step; the plan with the prompts sent, the timings and whether the model was available."""
        for event in self.draft_events(request):
            if isinstance(event, DraftDone):
                return event.result
        raise AssertionError("draft_events ends with a DraftDone event or raises")

    def draft_events(self, request: DraftRequest) -> Iterator[ProgressEvent]:
        run = DraftRun()
        model = request.model or self.settings.model

        def event(kind: str, message: str, **kw: Any) -> ProgressEvent:
            return ProgressEvent(kind=kind, message=message, elapsed_s=round(run.elapsed(), 3), **kw)

        # 1. intake: rules first (no model), then the model, cross-checked.
        t0 = time.perf_counter()
        if len(request.background) > self.settings.max_background_chars:
            raise BadInput(
                f"the background is {len(request.background):,} characters; the limit is "
                f"{self.settings.max_background_chars:,}. Paste a summary instead of the whole document."
            )
        run.team = self.corpus.chosen_team(request.team)
        ruled = read_profile(request, self.vocab, self.allowed_urls)
        redaction = ruled.redaction
        private = self._is_private(model)
        redacting = not private or self.settings.redact_for_local
        model_text = redaction.text if redacting else ruled.text
        if redacting and run.team is not None:
            run.mask = PeopleMask(run.team.people())
        run.timings.append(StepTiming(step="privacy+rules", seconds=time.perf_counter() - t0))
        yield event(
            "redacted",
            f"removed {redaction.total} personal details before any model call",
            detail={"counts": redaction.counts},
        )

        # 2. a profile from the rules alone, so the grounded skeleton needs no model call
        yield event("profile", f"read the profile: {self._describe(ruled.profile)}", profile=ruled.profile)
        t0 = time.perf_counter()
        flags = list(ruled.flags)
        sources = self._retrieve(ruled.profile, run, flags)
        run.timings.append(StepTiming(step="retrieve", seconds=time.perf_counter() - t0))
        yield event(
            "retrieved",
            f"found {len(sources)} similar documents",
            detail={"sources": [s.model_dump() for s in sources]},
        )
        plan = self._compose(ruled.profile, sources, flags, model, run, redaction.total)
        yield event("skeleton", "grounded skeleton ready", plan=plan.model_copy(deep=True))

        # 3-4. the model's part: one draft at a time on a local model, in order of arrival
        ticket = self._join_queue(model)
        try:
            if ticket is not None:
                yield from self._wait_turn(ticket, event)
            # 3. the model reads the profile too; the rules cross-check it (see intake.resolve_profile)
            plan, hire = yield from self._model_reading(request, ruled, model_text, plan, model, run, event)

            # 4. tailor, in small calls
            yield from self._tailor_summary(plan, hire, model, run, event)
            yield from self._tailor_tasks(plan, hire, model, run, event)
            if run.mask:
                _restore_names(plan, run.mask)

        finally:
            if ticket is not None:
                ticket.leave()

        # 5. validate the whole
        plan = self._validate(plan, run, redaction.total)
        yield event("validated", headline(open_flags(plan)))
        result = run.result(plan)
        if not result.model_available:
            yield event("warning", f"model unavailable: {result.unavailable_reason}")
        yield DraftDone(kind="done", message="plan ready", elapsed_s=round(run.elapsed(), 3), plan=plan, result=result)

    def _model_reading(
        self,
        request: DraftRequest,
        ruled: ProfileReading,
        model_text: str,
        plan: Plan,
        model: str,
        run: DraftRun,
        event: Any,
    ) -> Generator[ProgressEvent, None, tuple[Plan, HireProfile]]:
        """Step 3: the model reads the profile where the rules are unsure; the plan follows what it read.

        Asks nothing when the manager confirmed the profile, or when the rules read title, level,
        years and role with certainty (the summary is then written from them, by design).
        """
        hire = ruled.profile
        confirmed = bool(request.role_family and request.seniority and request.skills is not None)
        if confirmed:
            return plan, hire
        if ruled.rules.certain:
            plan.review_flags = [f for f in plan.review_flags if f.field != "hire.summary"]
            yield event("profile", f"the rules are certain: {self._describe(hire)}; the model is not asked")
            return plan, hire
        t0 = time.perf_counter()
        messages = render("intake", self.settings.prompts_dir, background=model_text[:6000])
        outcome = self._call(run, model, ModelReading, messages, 200)
        run.time_call("intake", t0, outcome)
        if not isinstance(outcome.value, ModelReading):
            run.fallbacks.append("intake: rules only")
            # One flag for the profile: "read by rules only" says the summary was written by the rules too.
            plan.review_flags = [f for f in plan.review_flags if f.field != "hire.summary"]
            plan.review_flags.append(flag("hire", model_kind(outcome.failure), detail=outcome.error))
            return plan, hire
        read = resolve_profile(request, ruled.rules, outcome.value, model_text, self.vocab)
        hire = read.profile
        if self._structure(hire) != self._structure(ruled.profile):
            # The model filled a gap the rules left (e.g. no title): the skeleton must follow.
            flags = list(read.flags)
            sources = self._retrieve(hire, run, flags)
            plan = self._compose(hire, sources, flags, model, run, ruled.redaction.total)
        else:
            plan.hire = hire
            plan.review_flags = [f for f in plan.review_flags if f.field != "hire.summary"]
        yield event("profile", f"the model read: {self._describe(hire)}", profile=hire, plan=plan.model_copy(deep=True))
        return plan, hire

    def _validate(self, plan: Plan, run: DraftRun, redactions: int) -> Plan:
        """Step 5: the semantic checks over the whole plan, their risks, and the schema once more."""
        t0 = time.perf_counter()
        plan.review_flags.extend(
            plan_problems(plan, corpus_ids=set(self.corpus.by_id()), allowed_urls=self.allowed_urls)
        )
        plan = Plan.model_validate(plan.model_dump(by_alias=True))
        run.timings.append(StepTiming(step="validate", seconds=time.perf_counter() - t0))
        run.stamp(plan, redactions)
        return plan

    # ------------------------------------------------------------------ the local model's queue
    def _join_queue(self, model: str) -> Ticket | None:
        """A place in line for the local model; hosted models take concurrent calls.

        The line is this process's, and then the data directory's: a draft from the API waits
        for one from the web app, since both would share the same cores.
        """
        from tailor.models import llm

        if not llm.is_local_model(model):
            return None
        worker = llm.local_worker(llm.local_model_name(model), self.settings)
        return worker.queue.join(shared_lock=self.settings.local_model_turn_lock)

    @staticmethod
    def _wait_turn(ticket: Ticket, event: Any) -> Iterator[ProgressEvent]:
        """Yield the draft's place in line every second until its turn comes."""
        shown = -1
        while not ticket.wait(timeout=1.0):
            ahead = ticket.position
            if ahead != shown:
                shown = ahead
                yield event(
                    "queued",
                    f"waiting for the local model: {ahead} draft{'s' if ahead != 1 else ''} ahead",
                    detail={"position": ahead},
                )
        if shown >= 0:
            yield event("queued", "the local model is yours now", detail={"position": 0})

    # ------------------------------------------------------------------ steps
    @staticmethod
    def _describe(hire: HireProfile) -> str:
        return f"{hire.seniority} {hire.role_family} ({hire.role}), {len(hire.skills)} skills"

    @staticmethod
    def _structure(hire: HireProfile) -> tuple[str, str, str]:
        """What the skeleton depends on: a change here means composing again."""
        return (hire.role_family, hire.seniority, hire.situation)

    def _compose(
        self,
        hire: HireProfile,
        sources: list[SourceRef],
        flags: list[ReviewFlag],
        model: str,
        run: DraftRun,
        redactions: int,
    ) -> Plan:
        t0 = time.perf_counter()
        plan = compose(
            self.corpus,
            hire,
            team=run.team,
            retrieved=sources,
            flags=flags,
            model=model,
            prompt_version=self.prompt_version,
            engine_version=__version__,
        )
        run.timings.append(StepTiming(step="compose", seconds=time.perf_counter() - t0))
        run.stamp(plan, redactions)
        return plan

    def _retrieve(self, hire: HireProfile, run: DraftRun, flags: list[ReviewFlag]) -> list[SourceRef]:
        query = retrieval_query(hire)
        try:
            index = self._index_or_none()
            roles = index.search_docs(query, k=2, kind="role_profile")
            cases = index.search_docs(query, k=3, kind="case_study")
        except IndexUnavailable as exc:
            run.fallbacks.append("retrieve: policy selection only")
            log.warning("retrieval unavailable: %s", exc)
            flags.append(flag("sources", "retrieval_down", detail=_scrub(str(exc))))
            return []
        out: list[SourceRef] = []
        for hit in [*roles, *cases]:
            out.append(
                SourceRef(
                    id=hit.doc_id,
                    title=hit.title,
                    kind=hit.kind,
                    score=round(float(hit.score), 4),
                    sections=list(dict.fromkeys(p.section for p in hit.passages))[:4],
                )
            )
        return out

    def _tailor_summary(
        self, plan: Plan, hire: HireProfile, model: str, run: DraftRun, event: Any
    ) -> Iterator[ProgressEvent]:
        t0 = time.perf_counter()
        skills = hire.skills[:SUMMARY_SKILLS]
        messages = render(
            "summary", self.settings.prompts_dir, hire=hire, skills=skills, policy=policy_line(plan), fit=fit_line(plan)
        )
        ctx = TailorContext(self.allowed_urls, _instructions(messages))
        outcome = self._call(run, model, summary_model(skills, ctx), messages, 200)
        run.time_call("tailor.summary", t0, outcome)
        if outcome.value is not None:
            apply_summary(plan, outcome.value)
            yield event(
                "tailored",
                "summary tailored",
                plan=plan.model_copy(deep=True),
                detail={"section": "summary"},
            )
        else:
            run.fallbacks.append("summary: grounded text")
            summary_flag = flag("summary", model_kind(outcome.failure), detail=outcome.error)
            plan.review_flags.append(summary_flag)
            yield event("warning", summary_flag.reason, detail={"section": "summary", "error": outcome.error})

    def _tailor_tasks(
        self, plan: Plan, hire: HireProfile, model: str, run: DraftRun, event: Any
    ) -> Iterator[ProgressEvent]:
        limit = 4 if self.settings.is_local_model and (model.startswith("local/")) else 10
        asked = pick_tasks_to_tailor(plan, limit)
        if not hire.skills:
            plan.review_flags.append(flag("tasks", "not_tailored"))
            yield event("warning", "no skills to tailor with", detail={"section": "tasks"})
            return
        if not asked:
            return
        t0 = time.perf_counter()
        candidates = skill_candidates(asked, hire.skills[:MAX_SKILLS], skill_scorer)
        items = list(zip(asked, candidates, strict=True))
        messages = render("tasks", self.settings.prompts_dir, hire=hire, items=items)
        ctx = TailorContext(self.allowed_urls, _instructions(messages))
        response_model = rewrite_model(candidates, ctx)
        outcome = self._call(run, model, response_model, messages, 70 * len(asked) + 40)
        run.time_call("tailor.tasks", t0, outcome)
        if outcome.value is not None:
            apply_rewrites(plan, outcome.value, asked)
            n = sum(t.tailored for t in asked)
            yield event(
                "tailored",
                f"{n} of {len(asked)} tasks tailored to the hire's skills",
                plan=plan.model_copy(deep=True),
                detail={"section": "tasks"},
            )
        else:
            run.fallbacks.append("tasks: grounded text")
            flag_failure(plan, "tasks", asked, outcome)
            yield event("warning", plan.review_flags[-1].reason, detail={"section": "tasks", "error": outcome.error})


def _restore_names(plan: Plan, mask: PeopleMask) -> None:
    """Put colleagues' names back where a masked prompt's answer used their roles."""
    plan.summary = mask.restore(plan.summary)
    plan.focus_areas = [mask.restore(f) for f in plan.focus_areas]
    for task in plan.all_tasks():
        if task.tailored:
            task.description = mask.restore(task.description)


def _instructions(messages: list[dict[str, str]]) -> list[str]:
    """Text a model answer must not parrot: the system prompt and the prompt's own hire line."""
    texts = [m["content"] for m in messages if m["role"] == "system"]
    for m in messages:
        if m["role"] == "user":
            texts += [line for line in m["content"].splitlines() if line.startswith("Hire")]
    return texts


def skill_scorer(task_texts: Sequence[str], skills: Sequence[str]) -> list[list[float]]:
    """Cosine similarity of each task to each skill with the retrieval embedder (unit vectors)."""
    from tailor.corpus.embeddings import get_embedder

    embedder = get_embedder()
    tasks = embedder.embed(list(task_texts))
    names = embedder.embed(list(skills))
    return cast(list[list[float]], (tasks @ names.T).tolist())


_AT_ADDRESS = re.compile(rf"\s+at\s+{URL_RE.pattern}")


def _scrub(reason: str) -> str:
    """A failure's detail goes into the plan: no server address in it (the plan may hold corpus URLs only).

    "could not reach the model server at http://…: refused" already names the server, so the
    address goes with its "at" (it once read "… at the model server"); any other address is
    replaced by a placeholder.
    """
    reason = _AT_ADDRESS.sub(lambda m: ":" if m.group(0).endswith(":") else "", reason)
    return URL_RE.sub("[address removed]", reason)


def retrieval_query(hire: HireProfile) -> str:
    """What the engine asks the index for a hire: level, title, situation, summary and skills."""
    return (
        f"{hire.seniority} {hire.role} {hire.role_family}. {hire.situation.replace('_', ' ')}. "
        f"{hire.summary} Skills: {', '.join(hire.skills[:10])}"
    )
