"""No import cycle between the modules of ``liudong`` (issue 14), counting imports inside
functions too: moving an import into a function only hides a cycle. Tests, migrations and
URL modules are left aside (they sit on top of what they import). Imports under
``if TYPE_CHECKING:`` are left aside too: they never run, so they name a type without
making one module need the other loaded (``liudong.actors`` names the account type
``accounts.models.User``, whose roles module knows the operator actor).

The layering between apps is held by import-linter (``[tool.importlinter]`` in
pyproject.toml, the ``lint-imports`` step of scripts/test-all); this test is the stricter,
module-by-module half that needs no contract to be kept up to date.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "liudong"


def _skipped(parts: tuple[str, ...]) -> bool:
    name = parts[-1]
    return (
        "migrations" in parts
        or "tests" in parts
        or name in ("urls", "public_urls")
        or name.endswith("_urls")
    )


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if _skipped(parts):
            continue
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node of the tree except those under ``if TYPE_CHECKING:`` (never run)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                pending.extend(child.orelse)
                continue
            pending.append(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_graph(found: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports, anywhere in its syntax tree (inside
    functions too), except type-only imports under ``if TYPE_CHECKING:``."""

    def resolve(name: str) -> str:
        while name and name not in found:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {name: set() for name in found}
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join([*parts, base] if base else parts)
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                if target.split(".")[0] != PACKAGE.name:
                    continue
                if (resolved := resolve(target)) and resolved != name:
                    graph[name].add(resolved)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycle_between_modules():
    found = cycles(import_graph(modules()))
    assert found == [], "import cycles (imports inside functions count too): " + "; ".join(
        " ⇄ ".join(component) for component in found
    )


def test_the_scan_sees_a_cycle_hidden_in_a_function(tmp_path):
    package = tmp_path / "liudong"
    (package / "app").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app" / "__init__.py").write_text("")
    (package / "app" / "models.py").write_text("from liudong.app import services\n")
    (package / "app" / "services.py").write_text(
        "def later():\n    from .models import Thing\n    return Thing\n"
    )
    (package / "app" / "urls.py").write_text("from . import services\n")
    (package / "app" / "tests").mkdir()
    (package / "app" / "tests" / "test_x.py").write_text("from liudong.app import models\n")
    found = modules(package)
    assert "liudong.app.urls" not in found and "liudong.app.tests.test_x" not in found
    assert cycles(import_graph(found)) == [["liudong.app.models", "liudong.app.services"]]


def test_the_scan_leaves_type_only_imports_aside(tmp_path):
    package = tmp_path / "liudong"
    (package / "app").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app" / "__init__.py").write_text("")
    (package / "app" / "models.py").write_text("from liudong.app import services\n")
    (package / "app" / "services.py").write_text(
        "import typing\nif typing.TYPE_CHECKING:\n    from .models import Thing\n"
        "else:\n    import liudong.app.other\n"
    )
    (package / "app" / "other.py").write_text("")
    graph = import_graph(modules(package))
    assert graph["liudong.app.services"] == {"liudong.app.other"}
    assert cycles(graph) == []


def test_events_module_imports_no_app():
    graph = import_graph(modules())
    assert graph["liudong.events"] == set()
    assert graph["liudong.servicetypes"] == set()


@pytest.mark.parametrize("publisher", ["people", "certificates", "services"])
def test_the_apps_that_publish_events_do_not_import_the_exchange(publisher):
    graph = import_graph(modules())
    reaching = sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        if source.startswith(f"liudong.{publisher}.") and not source.endswith(".views")
        for target in targets
        if target.startswith("liudong.exchange")
    )
    assert reaching == []


def test_import_linter_contracts_are_kept():
    """The contracts in pyproject.toml, as the lint-imports step of scripts/test-all runs
    them (here too, so `pytest` alone catches a broken layer)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    assert lint_imports.exists(), "import-linter is a test dependency: pip install -e '.[test]'"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
