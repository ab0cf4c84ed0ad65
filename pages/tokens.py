"""Personal API tokens: make one for a script or an HR system, see when each was last used, revoke.

The token is shown once, when it is made; only its hash is stored (``tailor.review.tokens``, which
also decides who may do what). The API itself is described in docs/api.md.
"""

from __future__ import annotations

import streamlit as st

from tailor.web.errors import guard
from tailor.web.services import services
from tailor.web.session import flash, require_user
from tailor.web.text import safe

user = require_user()
svc = services()
S = st.session_state

st.title("API tokens")
st.caption(
    "A token lets a script or an HR system call the tailor API as you, with your role: it can do what "
    "you can do here, nothing more. Keep it secret; revoke it when it is no longer needed."
)

new = S.pop("tk_new", None)
if new is not None:
    st.success("Copy the token now: it is not shown again.", icon=":material/key:")
    st.code(new, language=None)

with st.form("tk_create", clear_on_submit=True):
    c1, c2 = st.columns([3, 1])
    name = c1.text_input("What it is for", max_chars=100, placeholder="Greenhouse hired → draft")
    days = c2.number_input(
        "Valid for (days)", min_value=1, max_value=365, value=svc.settings.api_token_ttl_days, step=1
    )
    if st.form_submit_button("Make a token", icon=":material/add:"):
        with guard("making the token") as out:
            made = svc.tokens.create_token(user, name, expires_days=int(days))
        if out.ok:
            S["tk_new"] = made.token
            st.rerun()

with guard("listing your tokens"):
    tokens = svc.tokens.list_tokens(user)
if not tokens:
    st.info("You have no active tokens.", icon=":material/key_off:")
for t in tokens:
    with st.container(border=True):
        c1, c2 = st.columns([4, 1])
        used = f"last used {t.last_used_at:%Y-%m-%d %H:%M} UTC" if t.last_used_at else "never used"
        c1.markdown(
            f"**{safe(t.name)}** · `{safe(t.prefix)}…`  \n"
            f":gray[made {t.created_at:%Y-%m-%d}, expires {t.expires_at:%Y-%m-%d}, {used}]"
        )
        if c2.button("Revoke", key=f"tk_revoke_{t.id}", icon=":material/block:"):
            with guard("revoking the token") as out:
                svc.tokens.revoke_token(user, t.id)
            if out.ok:
                flash(f"Revoked “{t.name}”")
                st.rerun()
