"""One string that changes whenever the corpus on disk does, so every reader of it knows when to reload.

The web app keys its cached corpus and engine on it; the API compares it on each use. Both see
an admin's new team (Corpus page or ``tailor corpus add``) or a hand edit without a restart.
"""

from __future__ import annotations

from pathlib import Path

from tailor.corpus.skills import ALIASES_FILE


def corpus_signature(root: Path) -> str:
    """Changes whenever a corpus file is added, removed or edited (a stat per file, no reads)."""
    if not root.is_dir():
        return "missing"
    files = [*root.rglob("*.md"), root / ALIASES_FILE]  # the skill table changes what intake and fit read
    parts = [f"{p}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in sorted(files) if p.is_file()]
    return "|".join(parts)
