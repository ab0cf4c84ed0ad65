"""The corpus, read-only: search it, and list the teams and roles a draft can name."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tailor.api.context import Caller, Ctx
from tailor.corpus.documents import RoleFamily, Seniority
from tailor.corpus.index import DocHit
from tailor.corpus.teams import TeamProfileMeta

router = APIRouter(prefix="/v1/corpus", tags=["corpus"])


class RoleOut(BaseModel):
    id: str
    title: str
    roles: list[RoleFamily]
    seniority: list[Seniority]
    aliases: list[str]
    mission: str


@router.get("/search", summary="Corpus documents closest in meaning to a query")
def search(
    ctx: Ctx,
    who: Caller,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="What you are looking for, in words.")],
    k: Annotated[int, Query(ge=1, le=20)] = 5,
    kind: Literal["role_profile", "case_study", "team_profile"] | None = None,
) -> list[DocHit]:
    return ctx.index().search_docs(q, k=k, kind=kind)


@router.get("/teams", summary="Team profiles (their ids go in a draft's `team`)")
def teams(ctx: Ctx, who: Caller) -> list[TeamProfileMeta]:
    return ctx.corpus().teams()


@router.get("/roles", summary="Role profiles")
def roles(ctx: Ctx, who: Caller) -> list[RoleOut]:
    return [
        RoleOut(
            id=r.id,
            title=r.title,
            roles=list(r.roles),
            seniority=list(r.seniority),
            aliases=list(r.aliases),
            mission=r.mission,
        )
        for r in ctx.corpus().roles()
    ]
