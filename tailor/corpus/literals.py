"""The value types every corpus kind and the plan schema share (one home, so they cannot drift)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

Seniority = Literal["intern", "junior", "mid", "senior", "staff", "principal", "manager", "director"]
SENIORITY_ORDER: tuple[Seniority, ...] = (
    "intern",
    "junior",
    "mid",
    "senior",
    "staff",
    "principal",
    "manager",
    "director",
)
Owner = Literal["hire", "manager", "buddy", "mentor", "hr", "it", "team"]
SupportModel = Literal["buddy", "mentor", "peer_network"]
Proficiency = Literal["awareness", "foundational", "working", "proficient", "advanced", "expert"]
Situation = Literal[
    "standard",
    "career_switcher",
    "rehire",
    "remote_far_timezone",
    "acquisition_transfer",
    "contractor_conversion",
    "career_break",
]
RoleFamily = Literal[
    "backend",
    "frontend",
    "fullstack",
    "mobile",
    "data",
    "ml",
    "platform",
    "qa",
    "security",
    "management",
]

DocId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,80}$")]
Week = Annotated[int, Field(ge=0, le=13)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

URL_RE = re.compile(r"https?://[^\s)>\]\"']+")
