"""The Export page names its downloads exactly as ``tailor.exports.filename`` does.

The page once rebuilt file names itself and skipped the transliteration table, so
"Zoë Łukasiewicz" downloaded as ``zoe-ukasiewicz`` from the app but ``zoe-lukasiewicz``
from the CLI. This runs the real page (``streamlit.testing.v1.AppTest``) and records the
name and type Streamlit is given for each download button.
"""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from tailor import exports
from tailor.config import PROJECT_ROOT
from tailor.review.auth import AuthService, UserOut
from tailor.review.service import ReviewService
from tailor.web.session import TOKEN_KEY
from tests.fixtures.db import PASSWORD, make_plan


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, str | None]]:
    """(file name, MIME type) of every deferred download button the page registers, in order."""
    seen: list[tuple[str | None, str | None]] = []
    original = MediaFileManager.add_deferred

    def record(self: MediaFileManager, data_callable: Any, mimetype: str | None, *args: Any, **kwargs: Any) -> str:
        seen.append((kwargs.get("file_name"), mimetype))
        return original(self, data_callable, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


def test_download_names_are_the_exports_file_names(
    service: ReviewService,
    auth_service: AuthService,
    manager: UserOut,
    downloads: list[tuple[str | None, str | None]],
) -> None:
    plan = make_plan(name="Zoë Łukasiewicz")
    stored = service.import_plan(manager, plan)

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)
    at.session_state[TOKEN_KEY] = auth_service.authenticate(manager.username, PASSWORD).token
    at.run()
    at.switch_page("pages/export.py").run()
    assert not at.exception, at.exception

    expected = [
        (exports.filename(plan, fmt.name, plan_id=stored.id, revision=stored.revision), fmt.mime)
        for fmt in exports.FORMATS.values()
    ]
    assert downloads[-len(expected) :] == expected
    assert expected[0][0] == f"onboarding-plan-{stored.id}-zoe-lukasiewicz-r{stored.revision}.md"
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [f"Download {fmt.label}" for fmt in exports.FORMATS.values()]
