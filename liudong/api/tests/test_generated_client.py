"""A client generated from ``/api/schema/`` works (issue 16, item 7): openapi-python-client
generates it, every module of it imports (request bodies offered as json, form and
multipart at once left 30 of 131 unimportable), its enums have named members (not
``VALUE_0``), and its own parser reads a real answer of every GET endpoint - the models'
``from_dict`` refuse a null where the schema promised a value, and keep a field the schema
does not declare aside (``additional_properties``), which counts as a failure here.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import attrs
import httpx
import pytest

from liudong.api.tests import answers

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # generating the client: ~20 s

# The binary answers (certificate PDF, xlsx downloads) as the generator reads bytes.
CONFIG = """\
content_type_overrides:
  application/pdf: application/octet-stream
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
"""


def generate(schema: dict, folder: Path) -> str:
    """Generate the client package into ``folder``; returns its package name."""
    (folder / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    (folder / "config.yml").write_text(CONFIG, encoding="utf-8")
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            "schema.json",
            "--config",
            "config.yml",
            "--meta",
            "none",
            "--output-path",
            "liudong_api_client",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The generator names what it had to leave out ("WARNING parsing GET ..."): nothing.
    assert "WARNING" not in run.stdout, run.stdout
    return "liudong_api_client"


@pytest.fixture
def client_package(served_schema, tmp_path, monkeypatch):
    name = generate(served_schema, tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(name)
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def undeclared(value, where: str = "") -> list[str]:
    """Fields of a parsed answer that its model does not declare, anywhere inside it (a
    model with no declared field is a free-form map: its keys are its values)."""
    found = []
    if attrs.has(type(value)):
        declared = [f.name for f in attrs.fields(type(value)) if f.name != "additional_properties"]
        extra = getattr(value, "additional_properties", {})
        if declared and extra:
            found.append(f"{where or type(value).__name__}: {sorted(extra)}")
        for name in declared:
            found += undeclared(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for item in value[:3]:
            found += undeclared(item, f"{where}[]")
    return found


def test_the_generated_client_imports_and_reads_every_get_answer(
    served_schema, registry, client_package
):
    modules = list(pkgutil.walk_packages(client_package.__path__, client_package.__name__ + "."))
    assert len(modules) > 100
    for module in modules:
        importlib.import_module(module.name)  # the failure names the module
    enum_members = [
        member.name
        for module in modules
        if ".models." in module.name
        for cls in vars(sys.modules[module.name]).values()
        if isinstance(cls, type) and issubclass(cls, str) and hasattr(cls, "__members__")
        for member in cls
    ]
    assert enum_members and not [n for n in enum_members if n.startswith("VALUE_")]

    operations = {
        module.name.rpartition(".")[2]: sys.modules[module.name]
        for module in modules
        if ".api." in module.name
    }
    client = client_package.Client(base_url="http://testserver", raise_on_unexpected_status=True)
    problems, read = [], set()
    for answer in registry:
        operation_id = served_schema["paths"][answer.path]["get"]["operationId"]
        response = httpx.Response(
            answer.status,
            content=answer.body,
            headers={"Content-Type": answer.content_type},
        )
        try:
            parsed = operations[operation_id]._parse_response(client=client, response=response)
        except Exception as exc:
            problems.append(f"{answer.url}: {type(exc).__name__}: {str(exc)[:300]}")
            continue
        if parsed is None:
            problems.append(f"{answer.url}: the client read nothing")
        problems += [f"{answer.url}: undeclared {p}" for p in undeclared(parsed)]
        read.add(answer.path)
    assert not problems, "\n".join(problems)
    assert read == set(answers.get_paths(served_schema))
