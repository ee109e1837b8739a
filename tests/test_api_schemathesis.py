"""The API's OpenAPI document tells the truth: a bounded schemathesis run (property-based requests generated
from the document, valid and invalid) as two roles, a health worker and a national manager, finds no server
error, no status code the document does not declare, and no answer that breaks its declared schema.

Not part of the ordinary suite (marker ``schemathesis``, deselected by default): ``.ci/run`` runs it as its own
step, ``pytest -m schemathesis tests/test_api_schemathesis.py``. ``CRECER_FUZZ_EXAMPLES`` sets the cases generated per
operation (default below), each sent as both roles, beside schemathesis' coverage cases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis.errors import UnsatisfiedAssumption
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crecer.access.actions import create_token
from crecer.api.routes import api
from tests.conftest import SYSTEM

pytestmark = pytest.mark.schemathesis

EXAMPLES = int(os.environ.get("CRECER_FUZZ_EXAMPLES", "90"))
ROLES = ["nurse_alta", "national"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
app = WSGIHandler()


@pytest.fixture
def world(cast, children, make_mother, network) -> Iterator[dict[str, Any]]:
    """Something to find: children in both regions, a mother, providers; tokens of the two roles."""
    make_mother()
    # Requests go through Django's WSGI handler, inside the test's transaction: like the test client, keep
    # the connection open between them.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {role: create_token(SYSTEM, cast[role]) for role in ROLES}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case, world):
    # Each generated case is sent as each role in turn: a few hundred requests per operation for the cost of
    # generating half of them (generating a case costs about as much as answering it). Both roles are always
    # tried, so a failure as one does not hide another as the other.
    failures = []
    for role in ROLES:
        # The server compresses answers for clients that accept gzip; the WSGI client here does not decode them.
        headers = {"Authorization": f"Bearer {world[role]}", "Accept-Encoding": "identity"}
        try:
            case.call_and_validate(app=app, base_url="http://localhost", headers=headers, checks=CHECKS)
        except UnsatisfiedAssumption:  # a case the generator itself discards, not a failure
            raise
        except Exception as exc:
            exc.add_note(f"Sent as the role {role}.")
            failures.append(exc)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup("The case failed as both roles.", failures)
