"""Schemathesis fuzz of the audit API over its own OpenAPI schema: no input yields a 5xx.

Each operation is fuzzed with schema-valid inputs (positive) and schema-violating ones
(negative: negative pages, malformed ids, wrong types), a bounded number of examples each.
Schemathesis' pytest plugin is not used (it does not load under pytest 9); its case strategies
are driven by Hypothesis directly.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from settlement.audit import AuditService, create_app

pytestmark = pytest.mark.chain

#: operations read from the app's schema (the routes do not need a service to describe)
_OPS = [
    r.ok()  # type: ignore[union-attr]
    for r in schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(cast(Any, None))
    ).get_all_operations()
]
OPERATIONS = [op.label for op in _OPS]
#: (operation, mode): negative inputs only exist for operations that take parameters
CASES = [
    pytest.param(op.label, mode, id=f"{op.label}-{mode.value}")
    for op in _OPS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode == GenerationMode.POSITIVE or list(op.iter_parameters())
]


@pytest.fixture(scope="module")
def audit_schema(indexed: AuditService) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(indexed))


def test_every_route_is_fuzzed() -> None:
    assert len(OPERATIONS) >= 12
    assert "GET /rounds/{round_id}/verify" in OPERATIONS


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_no_server_errors(audit_schema: Any, label: str, mode: GenerationMode) -> None:
    operation = audit_schema.find_operation_by_label(label)
    seen: list[int] = []

    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        response = case.call()
        seen.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])
        assert response.status_code < 500, response.text
        if response.status_code >= 400 and response.status_code != 405:
            assert response.json()["message"], response.text

    run()
    assert seen
