"""The New plan page through ``AppTest``: Generate is idempotent per input, the limits are stated,
text that is not about a person is refused, and the profile warnings agree with the form.

Real SQLite and the real engine with the model unreachable (connection refused on 127.0.0.1:9).
"""

from __future__ import annotations

import random
import string

from streamlit.testing.v1 import AppTest

from tailor.schema import DraftRequest
from tests.web.test_app_pages import BACKGROUND, World, app_as, fill_background, texts
from tests.web.test_app_pages import world as world  # the fixture: a database with a user per role
from tests.web.test_new_plan import drafted as drafted  # the fixture: the model down, the requests recorded


def confirm(at: AppTest) -> None:
    at.button[[b.label for b in at.button].index("Confirm profile")].click().run()
    assert not at.exception, at.exception


def generated(world: World) -> AppTest:
    at = app_as(world, "maria")
    fill_background(at, BACKGROUND)
    confirm(at)
    at.button(key="np_generate").click().run()
    assert not at.exception, at.exception
    assert "Saved plan #" in texts(at.success)
    return at


def test_generate_again_offers_draft_again_and_never_duplicates_silently(
    world: World, drafted: list[DraftRequest]
) -> None:
    manager = world.users["maria"]
    at = generated(world)
    [first] = world.review.list_plans(manager)

    # The same input again: no plain Generate, but an explicit choice, and nothing chosen yet.
    assert "np_generate" not in [b.key for b in at.button]
    choice = at.radio(key="np_again_choice")
    assert choice.value is None and f"Plan #{first.id} was drafted from this background" in choice.label
    assert at.button(key="np_draft_again").disabled

    # Replace: the same plan gets the new draft as its next revision.
    choice.set_value("replace").run()
    at.button(key="np_draft_again").click().run()
    assert not at.exception, at.exception
    assert f"Replaced plan #{first.id} with the new draft (revision 2" in texts(at.success)
    [same] = world.review.list_plans(manager)
    detail = world.review.get_plan(manager, same.id)
    assert same.id == first.id and detail.revision == 2 and detail.revisions[-1].reason == "regenerated"

    # Keep both: a second plan, said so.
    at.radio(key="np_again_choice").set_value("keep_both").run()
    at.button(key="np_draft_again").click().run()
    assert not at.exception, at.exception
    plans = world.review.list_plans(manager)
    assert len(plans) == 2 and f"Saved plan #{plans[0].id} as a draft" in texts(at.success)
    assert len(drafted) == 3  # three drafts, each saved where the manager said
    [used] = world.review.list_intakes(manager, include_closed=True)
    assert used.plan_id == plans[0].id  # the input points at its newest plan
    assert f"Plans #{first.id} and #{plans[0].id} were drafted from this background" in (
        at.radio(key="np_again_choice").label
    )

    # A new background is a new input: Generate again, as before.
    at.button(key="np_again").click().run()
    fill_background(at, BACKGROUND.replace("Eight", "Nine"))
    confirm(at)
    assert "np_generate" in [b.key for b in at.button]


def test_the_limits_are_stated_next_to_the_inputs(world: World) -> None:
    at = app_as(world, "maria")
    captions = texts(at.caption)
    assert "Up to 50,000 characters." in captions
    assert ".txt, .md, .pdf, .docx; up to 5 MB, and up to 50,000 characters of text in it." in captions


def test_gibberish_is_refused_with_a_reason_and_kept_as_a_failed_input(world: World) -> None:
    rng = random.Random(14)
    words = ("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9))) for _ in range(6000))
    gibberish = " ".join(words)[:40_000]
    at = app_as(world, "maria")
    fill_background(at, gibberish)
    error = texts(at.error)
    assert "does not read as text about a person" in error and "do not look like words" in error
    assert "2. Confirm the profile" not in texts(at.subheader)
    [failed] = world.review.list_intakes(world.users["maria"])
    assert failed.status == "failed" and "about a person" in (failed.error or "")


def test_random_words_without_sentences_are_refused(world: World) -> None:
    rng = random.Random(15)
    vocabulary = [*BACKGROUND.replace(".", " ").replace(",", " ").split(), "river", "orange", "cloud", "violin"]
    at = app_as(world, "maria")
    fill_background(at, " ".join(rng.choice(vocabulary) for _ in range(400)))
    assert "like a list of random words" in texts(at.error)


def test_the_profile_warnings_agree_with_the_form_and_go_once_it_is_confirmed(world: World) -> None:
    no_title = (
        "Priya has 8 years of experience building payment systems in Python and PostgreSQL at a fintech, "
        "and led the ledger migration."
    )
    at = app_as(world, "maria")
    fill_background(at, no_title)
    title = next(t for t in at.text_input if t.label == "Job title").value
    assert title == "Senior backend engineer"  # a stand-in: the text names no title
    warnings = texts(at.warning)
    assert "no seniority word" not in warnings  # the title shown has one
    assert "the title shown is a stand-in" in warnings
    assert "closest to the Backend Engineer profile" in warnings  # the profile the grounding step shows first
    confirm(at)
    assert "Confirmed: senior backend" in texts(at.success)
    assert "stand-in" not in texts(at.warning) and "Backend Engineer profile" not in texts(at.warning)
