"""Versioned prompt templates (Jinja2) from the prompts folder.

A template starts with ``{# version: N #}``; the version a plan records is that
number plus a hash of the template text, so an edit that forgets to bump the
number still changes the recorded version (and every cache key built on it).
Each template renders a system part and a user part separated by a line
``=== user ===``.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tailor.config import get_settings

_VERSION = re.compile(r"\{#\s*version:\s*([\w.\-]+)\s*#\}")
_SPLIT = "=== user ==="
PROMPT_NAMES = ("intake", "summary", "tasks")


@lru_cache(maxsize=8)
def _env(folder: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _folder(folder: Path | None) -> Path:
    return folder or get_settings().prompts_dir


def template_version(name: str, folder: Path | None = None) -> str:
    text = (_folder(folder) / f"{name}.j2").read_text(encoding="utf-8")
    m = _VERSION.search(text)
    declared = m.group(1) if m else "0"
    return f"{declared}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def prompt_set_version(folder: Path | None = None) -> str:
    """One version for the whole prompt set; recorded in every plan's provenance."""
    parts = [f"{n}:{template_version(n, folder)}" for n in PROMPT_NAMES]
    return "p" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:10]


def render(name: str, folder: Path | None = None, **context: Any) -> list[dict[str, str]]:
    template = _env(str(_folder(folder))).get_template(f"{name}.j2")
    text = template.render(**context)
    system, _, user = text.partition(_SPLIT)
    messages = [{"role": "system", "content": system.strip()}]
    if user.strip():
        messages.append({"role": "user", "content": user.strip()})
    return messages
