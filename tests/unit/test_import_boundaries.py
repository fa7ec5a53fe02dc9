"""The layers import downwards only: api → domain → store; the domain never reaches up into the API.

Checked on the source (ast), so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "core" / "python" / "ledgerlou"

# layer -> the ledgerlou packages it must not import
FORBIDDEN = {
    "domain": ("ledgerlou.api",),
    "models": ("ledgerlou.api", "ledgerlou.domain", "ledgerlou.store"),
    "store": ("ledgerlou.api", "ledgerlou.domain", "ledgerlou.models"),
    "formats": ("ledgerlou.api", "ledgerlou.domain", "ledgerlou.store"),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def violations(layer: str) -> list[str]:
    out = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, module in imported_modules(path):
            if any(module == banned or module.startswith(banned + ".") for banned in FORBIDDEN[layer]):
                out.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_given_a_layer_then_it_imports_nothing_from_the_layers_above_it(layer: str) -> None:
    # Given every module of the layer  When its imports are read  Then none reaches a layer above
    assert (PACKAGE / layer).is_dir()
    assert violations(layer) == []


def test_given_a_domain_module_importing_the_api_then_the_check_finds_it(tmp_path: Path) -> None:
    # Given a module with a lazy import of the API inside a function
    module = tmp_path / "leaky.py"
    module.write_text("def f():\n    from ledgerlou.api.auth import AuthContext\n    return AuthContext\n")
    # When its imports are read  Then the API import is among them, with its line
    assert (2, "ledgerlou.api.auth") in imported_modules(module)
