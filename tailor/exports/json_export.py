"""JSON: the plan exactly as stored (the schema ``tailor schema`` prints), for other tools."""

from __future__ import annotations

from tailor.exports.common import ExportContext, Format, require_tasks
from tailor.schema import Plan


def to_json(plan: Plan, ctx: ExportContext) -> str:
    require_tasks(plan, ctx)
    return plan.model_dump_json(by_alias=True, indent=2) + "\n"


FORMAT = Format(
    name="json",
    label="JSON",
    description="The plan exactly as stored, for other tools.",
    ext="json",
    mime="application/json",
    render=lambda plan, ctx: to_json(plan, ctx).encode("utf-8"),
)
