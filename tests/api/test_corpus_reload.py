"""A running `tailor api` serves the corpus as it is on disk: an admin's edit needs no restart.

The server builds its own engine here (no engine is given), as `tailor api` does, over a copy
of the real corpus that the test then edits and trims.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tailor.api.app import create_app
from tailor.config import PROJECT_ROOT, Settings
from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.review.tokens import TokenService
from tests.api.helpers import ServerThread


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", copy)
    return copy


@pytest.fixture
def manager_client(
    api_settings: Settings, corpus_copy: Path, service: ReviewService, users: dict[str, UserOut]
) -> Iterator[httpx.Client]:
    settings = api_settings.model_copy(update={"corpus_dir": corpus_copy})
    token = TokenService(settings, db=service.db).create_token(users["manager"], "tests").token
    server = ServerThread(create_app(settings)).start()
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            yield client
    finally:
        server.stop()


def team_titles(client: httpx.Client) -> dict[str, str]:
    got = client.get("/v1/corpus/teams")
    assert got.status_code == 200, got.text
    return {t["id"]: t["title"] for t in got.json()}


def test_an_edited_or_removed_team_shows_without_a_restart(manager_client: httpx.Client, corpus_copy: Path) -> None:
    assert team_titles(manager_client)["team-orders"] == "Orders squad"
    orders = corpus_copy / "teams" / "team-orders.md"
    orders.write_text(orders.read_text(encoding="utf-8").replace("title: Orders squad", "title: Orders & invoicing"))
    assert team_titles(manager_client)["team-orders"] == "Orders & invoicing"

    orders.unlink()
    assert "team-orders" not in team_titles(manager_client)
    refused = manager_client.post(
        "/v1/drafts",
        json={"background": "Senior backend engineer, 9 years of Go and PostgreSQL.", "team": "team-orders"},
    )
    assert refused.status_code == 400 and "no team profile 'team-orders'" in refused.text, refused.text
