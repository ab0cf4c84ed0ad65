"""Sign in with a username and password (accounts are created by an admin with `tailor users add`)."""

from __future__ import annotations

import streamlit as st

from tailor.web.errors import guard
from tailor.web.session import NOTICE_KEY, flash, sign_in
from tailor.web.text import safe

st.title("tailor")
st.caption("Grounded, tailored 30/60/90-day onboarding plans. Sign in to continue.")

notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    st.info(safe(notice), icon=":material/info:")

left, _ = st.columns([1, 1])
with left, st.form("sign_in", border=True):
    username = st.text_input("Username", autocomplete="username")
    password = st.text_input("Password", type="password", autocomplete="current-password")
    submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")

if submitted:
    if not username.strip() or not password:
        st.error("Enter your username and password.")
    else:
        with guard("signing in") as outcome:
            user = sign_in(username, password)
        if outcome.ok:
            flash(f"Signed in as {user.display_name}")
            st.rerun()
st.caption("No account yet? Ask an admin to create one (`tailor users add NAME --role manager|hr|admin`).")
