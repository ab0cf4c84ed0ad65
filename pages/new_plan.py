"""New plan (managers): background in, confirmed profile, grounding shown, plan drafted and saved."""

from __future__ import annotations

from typing import get_args

import streamlit as st

from tailor.corpus.documents import RoleFamily, Seniority
from tailor.pipeline.intake import ProfileReading
from tailor.schema import HireProfile, ProgressEvent
from tailor.web import drafting, profile
from tailor.web.errors import guard, reported
from tailor.web.services import current_corpus, engine, services, warm_up
from tailor.web.session import flash, require_user
from tailor.web.tables import preview_frame
from tailor.web.text import safe, shorten

user = require_user("manager")
svc = services()
warm_up()  # the engine and the model layer load while the manager types
S = st.session_state
FAMILIES: list[str] = list(get_args(RoleFamily))
LEVELS: list[str] = list(get_args(Seniority))


def reset() -> None:
    for key in [k for k in S if isinstance(k, str) and k.startswith("np_")]:
        del S[key]


def start_generating(again: drafting.Again | None = None) -> None:
    """The Generate (or Draft again) click: drafting runs on the next run, with the manager's choice."""
    S["np_running"] = True
    S["np_redraft"] = again
    S.pop("np_result", None)
    S.pop("np_error", None)


st.title("New plan")
st.caption(
    "Paste what you know about the new hire, check the profile tailor reads from it, see which "
    "role profile and onboarding stories the plan will be grounded in, then generate a draft."
)
running = bool(S.get("np_running"))

# --------------------------------------------------------------------------- unfinished drafts
with guard("listing your unfinished drafts"):
    # The draft being worked on right now is not "unfinished" in this list's sense.
    open_intakes = [i for i in svc.review.list_intakes(user) if i.id != S.get("np_intake")]
    if open_intakes:
        with st.expander(f"Unfinished drafts ({len(open_intakes)})", icon=":material/history:"):
            st.caption("Backgrounds you saved but did not turn into a plan yet. Resume one or discard it.")
            labels = {
                i.id: f"#{i.id} · {i.name or 'unnamed'} · {i.overrides.get('team') or 'no team'} · {i.status} · "
                f"{i.created_at:%Y-%m-%d %H:%M}"
                for i in open_intakes
            }
            chosen = st.selectbox("Draft", list(labels), format_func=labels.__getitem__, key="np_resume_pick")
            c1, c2, _ = st.columns([1, 1, 4])
            if c1.button("Resume", disabled=running, key="np_resume"):
                intake = next(i for i in open_intakes if i.id == chosen)
                reset()
                S["np_text"] = intake.background
                S["np_name"] = intake.name or ""
                S["np_start"] = intake.start_date
                S["np_intake"] = intake.id
                S["np_team"] = S["np_team_saved"] = intake.overrides.get("team") or profile.NO_TEAM
                st.rerun()
            if c2.button("Discard", disabled=running, key="np_discard"):
                with guard("discarding the draft") as out:
                    svc.review.discard_intake(user, chosen)
                if out.ok:
                    if S.get("np_intake") == chosen:
                        reset()
                    flash("Draft discarded")
                    st.rerun()

# --------------------------------------------------------------------------- 1. background
with st.container(border=True):
    st.subheader("1. The hire's background")
    st.caption(
        "A résumé summary or your notes. It is saved before anything else happens, so nothing you "
        "type is lost; personal details are removed before any model sees it."
    )
    paste_limit, upload_limit = profile.input_limits(svc.settings.max_background_chars, svc.settings.max_upload_bytes)
    pasted_tab, upload_tab = st.tabs(["Paste text", "Upload a file"])
    pasted = pasted_tab.text_area(
        "Background",
        key="np_text",
        height=220,
        disabled=running,
        placeholder="Senior Backend Engineer, 8 years of Python and PostgreSQL at a payments company…",
    )
    pasted_tab.caption(paste_limit)
    upload = upload_tab.file_uploader(
        "Résumé or notes",
        type=profile.upload_types(),
        key="np_file",
        disabled=running,
    )
    upload_tab.caption(upload_limit)
    c1, c2 = st.columns(2)
    name = c1.text_input(
        "Hire's name (optional)",
        key="np_name",
        disabled=running,
        help="Used in the plan's title and exports; never sent to a model.",
    )
    S.setdefault("np_start", None)  # no date unless the manager picks one (the widget's default is today)
    start = c2.date_input(
        "Start date (optional)",
        key="np_start",
        disabled=running,
        help="Turns weeks into dates in the exports and the calendar file.",
    )
    # Teams hiring the hire's role family come first once the profile is read (or confirmed).
    known: HireProfile | None = S.get("np_hire") or (S["np_reading"].profile if S.get("np_reading") else None)
    read_family = known.role_family if known else None
    corpus = current_corpus()
    team_labels = profile.team_labels(corpus)
    team = st.selectbox(
        "Team the hire joins",
        profile.team_choices(corpus, read_family, S.get("np_team")),
        format_func=lambda choice: profile.label_for(team_labels, choice),
        key="np_team",
        disabled=running,
        help="The plan names the team's buddy and peers, its starter tasks, rituals and on-call. "
        "You can change it until you generate.",
    )
    note = profile.team_note(corpus, team, read_family)
    if note:
        st.caption(safe(note))
    # A change after the background was saved is saved at once, so resuming the draft keeps it. An input
    # a plan was drafted from keeps what it was drafted with; drafting again uses the team chosen now.
    saved_intake: int | None = S.get("np_intake")
    earlier: drafting.SavedDraft | None = S.get("np_result")
    drafted_from = earlier is not None and earlier.intake_id == saved_intake
    if saved_intake is not None and not running and not drafted_from and S.get("np_team_saved") != team:
        with guard("saving the team") as out:
            profile.save_team(svc.review, user, saved_intake, team)
        if out.ok:
            S["np_team_saved"] = team
    if st.button("Read profile", type="primary", icon=":material/person_search:", disabled=running, key="np_read"):
        with guard("reading the profile") as out:
            background = profile.background_from(
                upload.name if upload else None,
                upload.getvalue() if upload else None,
                pasted,
                svc.settings.max_upload_bytes,
            )
            intake_id = profile.save_background(
                svc.review, user, background, name or None, start, replaces=S.get("np_intake"), team=team
            )
            S["np_intake"], S["np_team_saved"] = intake_id, team
            for key in ("np_reading", "np_hire", "np_result", "np_error", "np_plans"):
                S.pop(key, None)
            S["np_reading"] = profile.read_saved_profile(
                svc.review, user, intake_id, background, name or None, start, corpus
            )
        if out.ok:
            flash("Background saved")
            st.rerun()

reading: ProfileReading | None = S.get("np_reading")

# --------------------------------------------------------------------------- 2. profile
if reading is not None:
    ruled = reading.profile
    intake_key = S.get("np_intake")
    with st.container(border=True):
        st.subheader("2. Confirm the profile")
        st.caption(
            "Read by rules from the text, without a model. Correct anything that is wrong: the plan "
            "follows the role family and seniority you confirm here."
        )
        # The rules' doubts are about the form as they filled it; once the manager confirms it,
        # the confirmed values are the profile and the doubts no longer describe what is shown.
        if S.get("np_hire") is None:
            for flag in reading.flags:
                st.warning(safe(flag.reason[:1].upper() + flag.reason[1:]), icon=":material/help:")
        with st.form(f"np_profile_{intake_key}", border=False):
            c1, c2, c3 = st.columns(3)
            role = c1.text_input("Job title", value=ruled.role)
            family = c2.selectbox("Role family", FAMILIES, index=FAMILIES.index(ruled.role_family))
            level = c3.selectbox("Seniority", LEVELS, index=LEVELS.index(ruled.seniority))
            years = c1.number_input(
                "Years of experience",
                min_value=0.0,
                max_value=60.0,
                step=0.5,
                format="%.1f",
                value=float(ruled.years_experience),
            )
            start_date = c2.date_input("Start date", value=ruled.start_date)
            c3.text_input("Situation (read from the text)", value=ruled.situation.replace("_", " "), disabled=True)
            skills = st.multiselect(
                "Skills",
                profile.skill_options(corpus, ruled.skills),
                default=ruled.skills,
                accept_new_options=True,
                help="Tasks are tailored to these skills.",
            )
            confirmed = st.form_submit_button(
                "Confirm profile", type="primary", icon=":material/check:", disabled=running
            )
        if confirmed:
            with guard("checking the profile") as out:
                S["np_hire"] = profile.confirmed_profile(
                    ruled,
                    role=role,
                    role_family=family,
                    seniority=level,
                    years_experience=years,
                    skills=list(skills),
                    start_date=start_date,
                )
            if out.ok:
                st.rerun()
        hire_now: HireProfile | None = S.get("np_hire")
        if hire_now is not None:
            st.success(
                f"Confirmed: {hire_now.seniority} {hire_now.role_family} · "
                f"{hire_now.years_experience:g} years · {len(hire_now.skills)} skills",
                icon=":material/verified:",
            )

hire: HireProfile | None = S.get("np_hire")

# --------------------------------------------------------------------------- 3. grounding
if hire is not None:
    with st.container(border=True):
        st.subheader("3. What the plan is grounded in")
        st.caption(
            "The closest role profiles and onboarding case studies in the corpus, by meaning. "
            "Scores are cosine similarity (1 = identical); the passages are the ones that matched."
        )
        with guard("searching the corpus") as out:
            roles, cases = profile.retrieve_cached(hire)
        if out.ok:
            for heading, hits in (("Role profiles", roles), ("Case studies", cases)):
                st.markdown(f"**{heading}**")
                if not hits:
                    st.caption("Nothing found.")
                for hit in hits:
                    with st.expander(f"{safe(hit.title)} · score {hit.score:.2f}", icon=":material/article:"):
                        st.progress(min(1.0, hit.score), text=f"`{hit.doc_id}`")
                        for passage in hit.passages:
                            st.markdown(f"**{safe(passage.section)}** · {passage.score:.2f}")
                            st.caption(safe(passage.text[:700]))
        else:
            st.caption("The plan can still be drafted from the documents the rules choose.")

# --------------------------------------------------------------------------- 4. generate
if hire is not None:
    with st.container(border=True):
        st.subheader("4. Generate")
        st.caption(
            f"The grounded plan appears within seconds; then the model ({svc.settings.model}) tailors the "
            "summary and tasks, which can take minutes on the local model. If the model fails, the "
            "grounded plan is saved anyway, with what needs checking flagged."
        )
        st.caption(safe(profile.team_line(corpus, team)))
        if not drafted_from:
            st.button(
                "Generate plan",
                type="primary",
                icon=":material/auto_awesome:",
                disabled=running,
                on_click=start_generating,
                key="np_generate",
            )
        elif earlier is not None and not running:
            # Generate is idempotent per input: a second draft from it needs the manager to say where it goes.
            with guard("reading the plan drafted from this background") as found:
                again_picks, again_labels = drafting.again_choices(svc.review, user, earlier.plan_id)
            if found.ok:
                picked = st.radio(
                    f"{drafting.drafted_as(S.get('np_plans', [earlier.plan_id]))} Draft again and:",
                    list(again_labels),
                    index=None,
                    format_func=again_labels.__getitem__,
                    key="np_again_choice",
                )
                st.button(
                    "Draft again",
                    type="primary",
                    icon=":material/autorenew:",
                    disabled=picked is None,
                    on_click=start_generating,
                    args=(again_picks.get(picked) if picked else None,),
                    key="np_draft_again",
                )

        if running:
            draft_intake: int | None = S.get("np_intake")
            assert reading is not None
            try:
                with st.status("Drafting the plan…", expanded=True) as status:
                    st.write(":material/save: Your input is saved. Reading the profile and searching the corpus…")
                    log_box = st.container()
                    preview = st.empty()

                    def on_event(event: ProgressEvent) -> None:
                        log_box.markdown(drafting.event_line(event))
                        if event.kind == "skeleton":
                            status.update(label="Grounded plan ready — tailoring it to the hire…")
                        if event.kind == "queued":
                            ahead = event.detail.get("position", 0)
                            # The local model serves one draft at a time; others wait their turn, in order.
                            status.update(
                                label=f"Grounded plan ready — in line for the local model ({ahead} ahead)…"
                                if ahead
                                else "Grounded plan ready — tailoring it to the hire…"
                            )
                        if event.plan is not None and event.kind in ("skeleton", "tailored"):
                            preview.dataframe(preview_frame(event.plan), hide_index=True, height=260)

                    hire_name = S.get("np_name") or None
                    try:
                        S["np_intake"] = draft_intake = drafting.ensure_intake(
                            svc.review, user, draft_intake, reading.text, hire, hire_name, team
                        )
                        S["np_team_saved"] = team
                        request = drafting.draft_request(reading.text, hire, hire_name, team)
                        saved = drafting.draft_and_save(
                            svc.review, engine(), user, draft_intake, request, on_event, S.get("np_redraft")
                        )
                    except Exception as exc:
                        status.update(label="Drafting failed", state="error", expanded=True)
                        S["np_error"] = reported(exc, "drafting the plan")
                    else:
                        done_label = (
                            f"Plan #{saved.plan_id} replaced by the new draft"
                            if saved.replaced
                            else f"Plan #{saved.plan_id} saved as a draft"
                        )
                        status.update(label=done_label, state="complete", expanded=False)
                        S["np_result"] = saved
                        if not saved.replaced:  # the plans made from this input in this visit, oldest first
                            S["np_plans"] = [*S.get("np_plans", []), saved.plan_id]
                        S.pop("np_again_choice", None)
            finally:
                S["np_running"] = False
            st.rerun()

        if S.get("np_error"):
            st.error(safe(S["np_error"]), icon=":material/error:")
            st.caption("Your background is saved under Unfinished drafts; fix the cause and generate again.")

        done: drafting.SavedDraft | None = S.get("np_result")
        if done:
            pid = done.plan_id
            if done.model_unavailable:
                st.warning(
                    f"The model could not tailor this plan ({safe(shorten(done.why_unavailable))}). "
                    f"The grounded plan was saved as plan #{pid} with {done.to_check} items "
                    "flagged for review; edit it, or draft again later.",
                    icon=":material/cloud_off:",
                )
            elif done.warnings:
                st.info(
                    "Some steps fell back to the grounded text: " + "; ".join(safe(w) for w in done.warnings),
                    icon=":material/info:",
                )
            saved_as = (
                f"Replaced plan #{pid} with the new draft (revision {done.revision}; the earlier one is in its History)"
                if done.replaced
                else f"Saved plan #{pid} as a draft"
            )
            st.success(
                f"{saved_as}: {done.tasks} tasks, {done.to_check} to check, in {done.seconds:.1f} s.",
                icon=":material/task_alt:",
            )
            with st.expander("What happened, step by step"):
                for line in done.events:
                    st.markdown(line)
            c1, c2, _ = st.columns([1, 1, 3])
            if c1.button(f"Open plan #{pid}", type="primary", icon=":material/open_in_new:", key="np_open"):
                S["plan_id"] = pid
                st.switch_page("pages/plan.py", query_params={"id": str(pid)})
            if c2.button("Start another plan", key="np_again"):
                reset()
                st.rerun()
