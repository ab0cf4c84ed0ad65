"""Who the token acts as, and that user's own tokens (list and revoke; new ones come from the CLI or the app)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from tailor.api.context import Caller, Ctx
from tailor.review.tokens import TokenOut
from tailor.review.users import UserOut

router = APIRouter(prefix="/v1", tags=["you"])


class Me(BaseModel):
    user: UserOut
    token: TokenOut


@router.get("/me", summary="The user this token acts as")
def me(ctx: Ctx, who: Caller) -> Me:
    token = next(t for t in ctx.tokens.list_tokens(who.user, include_inactive=True) if t.id == who.token_id)
    return Me(user=who.user, token=token)


@router.get("/tokens", summary="Your active API tokens (never the tokens themselves)")
def list_tokens(ctx: Ctx, who: Caller) -> list[TokenOut]:
    return ctx.tokens.list_tokens(who.user)


@router.delete("/tokens/{token_id}", summary="Revoke one of your tokens (admins: anyone's)")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], ctx: Ctx, who: Caller) -> TokenOut:
    return ctx.tokens.revoke_token(who.user, token_id)
