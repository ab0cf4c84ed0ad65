"""Exports of a plan: Markdown, JSON, CSV, ICS and PDF."""
