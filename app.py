"""tailor's Streamlit entry point: `scripts/run` serves it on http://127.0.0.1:8501."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="tailor", page_icon="🧵", layout="wide")
st.title("tailor")
st.write("Draft grounded, tailored 30/60/90-day onboarding plans.")
