"""Streamlit helpers for the pages in ``pages/``: presentation only, no rules."""
