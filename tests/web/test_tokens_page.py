"""The API tokens page through ``AppTest`` on a real SQLite database: make a token (shown once), it
works against the token service, revoke it."""

from __future__ import annotations

from tailor.review.tokens import TokenService
from tests.web.test_app_pages import World, app_as, open_page, texts
from tests.web.test_app_pages import world as world  # the fixture: a database with a user per role


def test_a_manager_makes_a_token_sees_it_once_and_revokes_it(world: World) -> None:
    at = open_page(app_as(world, "maria"), "pages/tokens.py")
    assert "You have no active tokens." in texts(at.info)
    at.text_input[0].input("ATS hired hook")
    at.button[0].click().run()
    assert not at.exception, at.exception
    token = at.code[0].value
    assert token and "not shown again" in texts(at.success)
    tokens = TokenService(world.review.settings, db=world.review.db)
    assert tokens.authenticate(token).user.username == "maria"

    at.run()  # shown once: a rerun no longer shows it
    assert not at.code
    revoke = next(b for b in at.button if (b.key or "").startswith("tk_revoke_"))
    revoke.click().run()
    assert not at.exception, at.exception
    assert tokens.list_tokens(world.users["maria"]) == []


def test_an_empty_name_is_refused_with_a_reason(world: World) -> None:
    at = open_page(app_as(world, "hana"), "pages/tokens.py")
    at.button[0].click().run()
    assert not at.exception and "needs a name" in texts(at.error)
