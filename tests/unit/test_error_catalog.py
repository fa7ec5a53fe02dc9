"""The error catalog (ledgerlou.errors) is the one place that spells an error code: every code once,
with its status and meaning; raise sites name a catalog class, and the OpenAPI error descriptions
are generated from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from ledgerlou import errors
from ledgerlou.api.resolver import ERROR_RESPONSES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "core" / "python" / "ledgerlou"
SOURCES = [PACKAGE, ROOT / "functions", ROOT / "local"]
CATALOG_FILE = PACKAGE / "errors.py"
CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def code_literals(path: Path, codes: set[str]) -> list[str]:
    """Where ``path`` spells an error code itself: a ``code="…"`` argument, or a string equal to a code."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str) and CODE.match(node.value.value):
            found.append(f"{path.name}:{node.value.lineno} code={node.value.value!r}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes:
            found.append(f"{path.name}:{node.lineno} {node.value!r}")
    return sorted(set(found))


def test_given_the_sources_then_no_error_code_is_spelled_outside_the_catalog() -> None:
    # Given every module of the layer, the functions and the local runtime but the catalog
    codes = set(errors.CATALOG)
    paths = [p for root in SOURCES for p in sorted(root.rglob("*.py")) if p != CATALOG_FILE]
    assert len(paths) > 50
    # When their string literals are read  Then none is an error code (raise sites name a class)
    assert [hit for p in paths for hit in code_literals(p, codes)] == []


def test_given_a_module_spelling_a_code_then_the_check_finds_it(tmp_path: Path) -> None:
    # Given a module that raises with a code literal, and one that answers a catalog code by hand
    module = tmp_path / "leaky.py"
    module.write_text('raise Conflict("x", code="NEW_CODE")\nanswer = error_response(409, "PERIOD_LOCKED", "x")\n')
    # When its literals are read  Then both are found, with their lines
    assert code_literals(module, set(errors.CATALOG)) == ["leaky.py:1 code='NEW_CODE'", "leaky.py:2 'PERIOD_LOCKED'"]


def test_given_a_code_defined_twice_then_the_catalog_refuses_it() -> None:
    # Given the catalog  When a second class claims PERIOD_LOCKED
    with pytest.raises(TypeError, match="PERIOD_LOCKED is defined twice"):
        type("PeriodLockedAgain", (errors.Conflict,), {"code": "PERIOD_LOCKED", "__doc__": "Again."})
    # Then the first one still owns it
    assert errors.CATALOG["PERIOD_LOCKED"] is errors.PeriodLocked


def test_given_the_catalog_then_every_entry_has_a_code_a_status_and_a_meaning() -> None:
    # Given every catalog entry  Then its key is its code, UPPER_SNAKE, with an HTTP error status and a meaning
    assert len(errors.CATALOG) >= 45
    for code, error in errors.CATALOG.items():
        assert error.code == code and CODE.match(code), code
        assert 400 <= error.status <= 599, code
        assert error.meaning() and not error.meaning().startswith(("Base", "Typed")), code
    # and a subclass without its own code inherits the code, not a catalog entry of its own
    assert errors.CATALOG["INVALID_INPUT"] is errors.InvalidInput


def test_given_the_catalog_then_the_openapi_error_descriptions_name_each_code_of_their_status() -> None:
    # Given the catalog grouped by status  When the OpenAPI descriptions are generated
    for status, entries in errors.by_status().items():
        description = ERROR_RESPONSES[status]["description"]
        # Then each status names all its codes, the generic one first
        assert all(re.search(rf"\b{e.code}\b", description) for e in entries), (status, description)
    assert ERROR_RESPONSES[403]["description"].startswith("FORBIDDEN: the token lacks the scope")
    assert ERROR_RESPONSES[409]["description"].startswith("CONFLICT: ")


def test_given_a_throttled_service_then_the_error_says_when_to_retry() -> None:
    # Given the throttle's catalog entry  When raised  Then 503 SERVICE_UNAVAILABLE with Retry-After
    err = errors.ServiceUnavailable()
    assert (err.status, err.code) == (503, "SERVICE_UNAVAILABLE")
    assert err.headers == {"Retry-After": "1"}
