"""The OpenAPI schema as a generated client reads it (issue 16, item 7): what the API
answers must be what the schema declares, or a client that trusts it breaks on real data.

Owns two things drf-spectacular does not do by itself (``SPECTACULAR_SETTINGS`` and
``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` name them):

- :class:`AutoSchema`: a response field mirrors its model field. DRF drops ``allow_blank``
  and ``allow_null`` from read-only model fields, so a blank education or a follow-up no
  one has done yet (``done_by`` null) was declared impossible. In responses, a field whose
  model column may be blank admits ``""`` (an enum gains the blank member, a pattern an
  empty alternative) and one whose column may be null is nullable. Requests are left as the
  serializers declare them.
- :func:`name_enum_members`: every enum gets ``x-enum-varnames``, the names a generated
  client gives its members (``SexEnum.MALE``, not ``VALUE_0``): the Python names of the
  project's choices classes, or of :data:`CODE_TABLE_NAMES` for the national code tables.

Must not change what any endpoint does: only what the schema says about it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular import openapi
from rest_framework import serializers

# Member names of the national code tables kept as (code, Chinese name) pairs (people.template,
# people.models): GB/T 2261.1 sex, GB/T 2261.2 marital status, GB/T 4658 education, and the
# GB/T 3304 ethnic groups by their official romanisation.
CODE_TABLE_NAMES: dict[str, dict[str, str]] = {
    "sex": {"1": "MALE", "2": "FEMALE"},
    "marital_status": {
        "10": "UNMARRIED",
        "20": "MARRIED",
        "21": "FIRST_MARRIAGE",
        "22": "REMARRIED",
        "23": "REMARRIED_TO_FORMER_SPOUSE",
        "30": "WIDOWED",
        "40": "DIVORCED",
        "90": "NOT_STATED",
    },
    "education": {
        "10": "GRADUATE",
        "20": "UNIVERSITY",
        "30": "COLLEGE",
        "40": "SECONDARY_VOCATIONAL",
        "60": "SENIOR_HIGH",
        "70": "JUNIOR_HIGH",
        "80": "PRIMARY",
        "90": "OTHER",
    },
    "ethnicity": dict(
        zip(
            [f"{n:02d}" for n in range(1, 57)] + ["97", "98"],
            [
                "HAN",
                "MONGOL",
                "HUI",
                "ZANG",
                "UYGUR",
                "MIAO",
                "YI",
                "ZHUANG",
                "BUYEI",
                "CHOSEN",
                "MAN",
                "DONG",
                "YAO",
                "BAI",
                "TUJIA",
                "HANI",
                "KAZAK",
                "DAI",
                "LI",
                "LISU",
                "VA",
                "SHE",
                "GAOSHAN",
                "LAHU",
                "SUI",
                "DONGXIANG",
                "NAXI",
                "JINGPO",
                "KIRGIZ",
                "TU",
                "DAUR",
                "MULAO",
                "QIANG",
                "BLANG",
                "SALAR",
                "MAONAN",
                "GELAO",
                "XIBE",
                "ACHANG",
                "PUMI",
                "TAJIK",
                "NU",
                "UZBEK",
                "RUSS",
                "EWENKI",
                "DEANG",
                "BONAN",
                "YUGUR",
                "GIN",
                "TATAR",
                "DERUNG",
                "OROQEN",
                "HEZHEN",
                "MONBA",
                "LHOBA",
                "JINO",
                "OTHER",
                "FOREIGN_ORIGIN",
            ],
            strict=True,
        )
    ),
}


def _model_field(field: serializers.Field) -> models.Field | None:
    """The model column a serializer field reads directly (``source`` one attribute of
    a model serializer's instance), or None."""
    parent = field.parent
    if isinstance(parent, serializers.ListSerializer):
        parent = parent.parent
    model = getattr(getattr(parent, "Meta", None), "model", None)
    if model is None or len(getattr(field, "source_attrs", ())) != 1:
        return None
    try:
        found = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema; response fields as blank and null as their columns."""

    def _map_serializer_field(
        self, field: serializers.Field, direction: str, bypass_extensions: bool = False
    ) -> dict:
        if direction == "response":
            column = _model_field(field)
            if column is not None:
                if column.null and not field.allow_null:
                    field.allow_null = True  # read by the meta and the enum it builds
                blank = column.blank and isinstance(column, models.CharField | models.TextField)
                if blank and hasattr(field, "allow_blank") and not field.allow_blank:
                    field.allow_blank = True
        # A choice described by a pattern (services, places) then admits "" beside it.
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _choice_classes() -> Iterator[type[enum.Enum]]:
    """Every choices class and enum of the project (their members are named in code)."""
    stack: list[type] = [models.Choices, enum.IntEnum]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("liudong.") and issubclass(cls, enum.Enum):
            yield cls


def _names_by_values() -> dict[frozenset, dict[Any, str]]:
    found: dict[frozenset, dict[Any, str]] = {}
    for cls in _choice_classes():
        names = {member.value: member.name for member in cls}
        found.setdefault(frozenset(names), names)
    for names in CODE_TABLE_NAMES.values():
        found.setdefault(frozenset(names), names)
    return found


def name_enum_members(result: dict, generator: Any, **kwargs: Any) -> dict:
    """Postprocessing hook (after drf-spectacular's enum hook): ``x-enum-varnames`` on
    every enum component, for clients that name members after them. An enum whose
    values are all names already (``valid``, ``revoked``) needs none, but gets them
    too, so that every enum is named the same way."""
    known = _names_by_values()
    for schema in _enum_schemas(result):
        present = [v for v in schema["enum"] if v is not None]
        names = known.get(frozenset(present))
        if names is None and present == [""]:
            names = {"": "BLANK"}
        if names is None and all(isinstance(v, str) and v.isidentifier() for v in present):
            names = {v: v.upper() for v in present}
        if names is not None:
            schema["x-enum-varnames"] = [names[v] for v in present]
    return result


def _enum_schemas(result: dict) -> Iterator[dict]:
    """The enum components, and the enums of query parameters (django-filter's choices),
    which stay inline. A parameter's ``title`` is its label in the language the schema
    was served in (性别): a client names the enum's class after it, so it goes (the
    description still carries the label)."""
    for schema in result.get("components", {}).get("schemas", {}).values():
        if schema.get("enum"):
            yield schema
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                schema = parameter.get("schema", {})
                schema = schema.get("items", schema) if schema.get("type") == "array" else schema
                if schema.get("enum"):
                    schema.pop("title", None)
                    yield schema


class OneObjectSchema(AutoSchema):
    """For a view set whose ``list`` answers one object (a report of the whole region),
    not a list: drf-spectacular takes every ``list`` action for an array."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of the API (liudong/api/errors.py).",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        }
    },
    "required": ["errors"],
}


def declare_errors(result: dict, generator: Any, **kwargs: Any) -> dict:
    """Postprocessing hook: every operation may answer a 4xx in the one error shape (a
    refused value, no account, no right, no such record, a stale version, too many
    calls), and says so, so that a client expects it and schemathesis' status-code check
    holds every answer to the schema."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {
        "description": "refused: the one error shape",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("4XX", error)
    return result
