"""Property-based fuzzing of every operation of the OpenAPI document with Schemathesis.

The running server's own ``/openapi.json`` is loaded; for each operation Schemathesis generates
requests from the schema, valid and invalid (bodies, path and query parameters, headers such as
``If-Match``), and sends them to the real uvicorn server as a manager, an HR user and an admin. Every response
must pass:

* ``not_a_server_error``: no 5xx, ever;
* ``status_code_conformance``: the status is documented for the operation;
* ``content_type_conformance``: the content type is the documented one (problem+json for errors);
* ``response_schema_conformance``: the body matches its schema;
* ``response_headers_conformance``: documented headers are present and valid.

Half the generated plan ids are replaced by real ones (a draft, a plan in review and an approved
plan), so edits, moves and exports reach the review service instead of stopping at 404.

Bounded for CI: ``EXAMPLES`` cases per operation and role (about 2,500 requests, 30 s here), and
derandomised, so a run is repeatable; raise ``TAILOR_FUZZ_EXAMPLES`` to look harder.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tailor.review.tokens import TokenService
from tests.api.conftest import Api, approve
from tests.fixtures.db import make_plan

EXAMPLES = int(os.environ.get("TAILOR_FUZZ_EXAMPLES", "25"))
ROLES = ("manager", "hr", "admin")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def real_plans(api: Api) -> list[int]:
    manager, hr = api.users["manager"], api.users["hr"]
    draft = api.service.import_plan(manager, make_plan()).id
    in_review = api.service.import_plan(manager, make_plan()).id
    api.service.submit(manager, in_review, 1)
    approved = api.service.import_plan(manager, make_plan()).id
    api.service.submit(manager, approved, 1)
    approve(api.service, hr, approved, 1)
    return [draft, in_review, approved]


def cases(operation: schemathesis.APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    """Valid requests, and invalid ones (which must be refused with a 4xx, never a 5xx)."""
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


def fuzz(api: Api, operation: schemathesis.APIOperation, token: str, plans: list[int], statuses: Counter[int]) -> None:
    """Run Schemathesis's cases for one operation as one token; raises what it finds."""
    auth = {"Authorization": f"Bearer {token}"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(operation), real=st.sampled_from([None, *plans]))
    def run(case: schemathesis.Case, real: int | None) -> None:
        if real is not None and case.path_parameters and "plan_id" in case.path_parameters:
            case.path_parameters["plan_id"] = real
        response = case.call(base_url=api.url, headers=auth, timeout=60)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    run()


def test_every_operation_holds_up_under_schemathesis(api: Api) -> None:
    plans = real_plans(api)
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: Counter[int] = Counter()
    failures: dict[str, str] = {}
    started = time.monotonic()
    tokens = TokenService(api.settings, db=api.service.db)
    for role in ROLES:
        for operation in operations:
            # A token per operation: fuzzing DELETE /v1/tokens/{id} revokes tokens, and must not
            # turn the rest of the run into 401s.
            token = tokens.create_token(api.users[role], operation.label[:90]).token
            try:
                fuzz(api, operation, token, plans, statuses)
            except Exception as exc:  # keep going: report every operation that fails, not just the first
                failures[f"{role} {operation.label}"] = str(exc)[:3000]
    sent = sum(statuses.values())
    print(
        f"\nschemathesis: {len(operations)} operations x {len(ROLES)} roles, {sent} requests in "
        f"{time.monotonic() - started:.0f} s; statuses {dict(sorted(statuses.items()))}; {len(failures)} failing"
    )
    assert not any(code >= 500 for code in statuses), statuses
    assert failures == {}, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())
