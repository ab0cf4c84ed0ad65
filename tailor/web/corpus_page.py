"""The Corpus page's team view: each team profile with its manager, role families and what a hire meets.

Presentation only: the documents come from ``tailor.corpus`` as ingest validated them.
pandas is imported inside the function, as in ``tailor.web.tables``: a cold server paints the
sign-in page first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from tailor.corpus.documents import Corpus

TEAM_COLUMNS = ("team", "id", "manager", "role families", "members", "buddies", "starter tasks", "on-call")


def teams_frame(corpus: Corpus) -> pd.DataFrame:
    """One row per valid team profile, by team name; the columns are there even with no teams."""
    import pandas as pd

    rows = [
        {
            "team": t.team,
            "id": t.id,
            "manager": t.manager.name,
            "role families": ", ".join(t.roles),
            "members": len(t.members),
            "buddies": ", ".join(m.name for m in t.members if m.buddy),
            "starter tasks": len(t.starter_tasks),
            "on-call": t.on_call.name if t.on_call else "",
        }
        for t in sorted(corpus.teams(), key=lambda t: t.team.lower())
    ]
    return pd.DataFrame(rows, columns=list(TEAM_COLUMNS))
