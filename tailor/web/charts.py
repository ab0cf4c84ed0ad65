"""Charts the pages draw with Altair: the plan's timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import altair as alt

    from tailor.schema import Plan


def timeline_chart(plan: Plan) -> alt.Chart:
    """Tasks as bars by due week, one row per task, coloured by owner.

    Week 0 is the week before day 1; the axis runs to week 14 so every plan is drawn on the
    same scale and two plans can be compared by eye.
    """
    import altair as alt
    import pandas as pd

    rows = [
        {
            "task": t.title,
            "owner": t.owner,
            "who": t.owner_name or "",
            "phase": phase.name,
            "week": t.due_week,
            "until": t.due_week + 1,
            "check": "needs review" if t.needs_review else "",
        }
        for phase in plan.phases
        for t in phase.tasks
    ]
    frame = pd.DataFrame(rows, columns=["task", "owner", "who", "phase", "week", "until", "check"])
    height = max(120, 24 * len(frame))
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadius=3)
        .encode(
            x=alt.X("week:Q", title="Week (0 = before day 1)", scale=alt.Scale(domain=[0, 14])),
            x2="until:Q",
            y=alt.Y(
                "task:N",
                sort=alt.EncodingSortField(field="week", order="ascending"),
                title=None,
                axis=alt.Axis(labelLimit=320),
            ),
            color=alt.Color("owner:N", title="Owner"),
            tooltip=["task", "owner", "who", "phase", "week", "check"],
        )
        .properties(height=height)
    )
