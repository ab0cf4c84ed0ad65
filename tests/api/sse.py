"""Reading a server-sent event stream the way an EventSource does (for the API tests)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def parse_sse(lines: Iterable[str]) -> list[tuple[str, str | None, Any]]:
    """(event name, id, JSON data) for each event; comments (``: ...``) are skipped."""
    events: list[tuple[str, str | None, Any]] = []
    name, ident, data = "message", None, []
    for line in lines:
        if line == "":
            if data:
                events.append((name, ident, json.loads("\n".join(data))))
            name, ident, data = "message", None, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "id":
            ident = value
        elif field == "data":
            data.append(value)
    return events
