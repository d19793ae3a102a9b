"""Find reads of scoped models that skip ``in_scope()``, over the syntax tree.

A scoped model is one whose default manager hands out a ``liudong.base.ScopedQuerySet``
(found in the app registry, so a model added tomorrow is covered). In every module outside
``models.py`` / ``services.py`` (which own the rules and are tested on their own),
migrations and tests, these are offences:

- ``Model.objects`` / ``Model._default_manager`` used in an expression chain that does not
  go through ``.in_scope(`` (``Person.objects.filter(...)``, ``queryset = Person.objects``);
- ``get_object_or_404(Model, ...)`` / ``get_list_or_404(Model, ...)`` with a scoped model.

Deliberate exceptions live in ``tests/access_allowlist.txt``, one a line:
``path:text-on-the-line  reason`` (two spaces or more before the reason, which is required;
``path:*`` a whole module, ``path:^text`` a line starting with the text).
This module only reads code; ``tests/test_access.py`` asserts on what it finds.
"""

from __future__ import annotations

import ast
import pathlib
import re
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "liudong"
ALLOWLIST = ROOT / "tests" / "access_allowlist.txt"
EXEMPT_NAMES = {"models.py", "services.py"}
MANAGERS = {"objects", "_default_manager"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}
SCOPING = "scoped_object_or_404"
# Methods that read nothing (an empty queryset, the manager's model class).
HARMLESS = {"none", "model"}


@dataclass(frozen=True)
class Offence:
    path: str  # relative to the repository root
    line: int
    model: str
    text: str  # the source line, stripped

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.model}: {self.text}"


def scoped_model_names() -> set[str]:
    """Class names of the models whose default manager is a ScopedQuerySet."""
    from django.apps import apps

    from liudong.base import ScopedQuerySet

    names = set()
    for model in apps.get_models():
        queryset_class = getattr(model._default_manager, "_queryset_class", None)
        if queryset_class is not None and issubclass(queryset_class, ScopedQuerySet):
            names.add(model.__name__)
    return names


def checked_modules() -> list[pathlib.Path]:
    paths = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = set(path.relative_to(PACKAGE).parts)
        if path.name in EXEMPT_NAMES or "migrations" in parts or "tests" in parts:
            continue
        if "models" in parts:  # a models/ package owns its rules like models.py
            continue
        paths.append(path)
    return paths


def _aliases(tree: ast.AST, models: set[str]) -> dict[str, str]:
    """Local name -> model name, for ``from x import Person`` and ``... as P``."""
    found = {name: name for name in models}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in models:
                    found[alias.asname or alias.name] = alias.name
    return found


def _model_of(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``Person`` or ``models.Person`` naming a scoped model."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr in aliases.values():
        return node.attr
    return None


def _chain_above(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> list[str]:
    """The attribute names called or read on ``node`` going outwards: for
    ``Person.objects.in_scope(u).filter(x)`` from ``Person.objects``: in_scope, filter."""
    names = []
    current = node
    while True:
        parent = parents.get(current)
        if isinstance(parent, ast.Attribute) and parent.value is current:
            names.append(parent.attr)
        elif isinstance(parent, ast.Call) and parent.func is current:
            pass
        else:
            return names
        current = parent


def _handed_to_scoping(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """The chain holding ``node`` is the first argument of ``scoped_object_or_404(``,
    which scopes what it is given (``liudong.base``)."""
    current = node
    while isinstance(parents.get(current), ast.Attribute | ast.Call):
        parent = parents[current]
        if isinstance(parent, ast.Call) and parent.func is not current:
            break
        current = parent
    call = parents.get(current)
    if not isinstance(call, ast.Call) or not call.args or call.args[0] is not current:
        return False
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == SCOPING


def offences_in(source: str, path: str, models: set[str]) -> list[Offence]:
    tree = ast.parse(source)
    aliases = _aliases(tree, models)
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    lines = source.splitlines()
    found = []

    def offend(node: ast.AST, model: str) -> None:
        line = getattr(node, "lineno", 0)
        found.append(Offence(path, line, model, lines[line - 1].strip() if line else ""))

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            model = _model_of(node.value, aliases)
            if model is None:
                continue
            chain = _chain_above(node, parents)
            if "in_scope" in chain or (chain and chain[0] in HARMLESS):
                continue
            if _handed_to_scoping(node, parents):
                continue
            offend(node, model)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in SHORTCUTS:
                model = _model_of(node.args[0], aliases)
                if model is not None:
                    offend(node, model)
    return found


@dataclass(frozen=True)
class Allowed:
    path: str
    pattern: str
    reason: str

    def matches(self, text: str) -> bool:
        """``*``: any line; ``^text``: a line starting with it; else a line holding it."""
        if self.pattern == "*":
            return True
        if self.pattern.startswith("^"):
            return text.startswith(self.pattern[1:])
        return self.pattern in text


def allowlist(path: pathlib.Path = ALLOWLIST) -> list[Allowed]:
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where, reason = _split(line)
        if not reason:
            raise ValueError(f"{path.name}:{number}: an exception needs its reason: {raw!r}")
        module, sep, pattern = where.partition(":")
        if not sep or not pattern:
            raise ValueError(f"{path.name}:{number}: expected path:pattern, got {where!r}")
        entries.append(Allowed(module, pattern, reason))
    return entries


def _split(line: str) -> tuple[str, str]:
    """``where  reason`` (two spaces or more between them)."""
    parts = re.split(r"\s{2,}", line, maxsplit=1)
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def unscoped_reads(models: set[str] | None = None) -> tuple[list[Offence], list[Allowed]]:
    """(offences not allowed, allow-list entries that matched nothing)."""
    models = scoped_model_names() if models is None else models
    allowed = allowlist()
    used: set[Allowed] = set()
    offences = []
    for path in checked_modules():
        relative = str(path.relative_to(ROOT))
        for offence in offences_in(path.read_text(encoding="utf-8"), relative, models):
            match = next(
                (a for a in allowed if a.path == relative and a.matches(offence.text)),
                None,
            )
            if match is None:
                offences.append(offence)
            else:
                used.add(match)
    return offences, [a for a in allowed if a not in used]
