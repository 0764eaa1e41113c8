"""The OpenAPI document stays the contract: every field of every TypedDict in
``assent_client.types`` must exist in the running gateway's ``/openapi.json``,
in the schema of the same name, with the same JSON type. The list of fields
comes from the SDK's own type definitions, so renaming a field on either side
fails here."""

import typing
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple, Union

import httpx
import pytest

from assent_client import types as sdk_types
from gateway import Gateway

Schema = Dict[str, Any]


@pytest.fixture(scope="module")
def document(gateway: Gateway) -> Dict[str, Any]:
    response = httpx.get(f"{gateway.url}/openapi.json")
    response.raise_for_status()
    body: Dict[str, Any] = response.json()
    return body


def is_typed_dict(value: object) -> bool:
    """``typing.is_typeddict``, which Python 3.9 lacks."""
    return isinstance(value, type) and issubclass(value, dict) and hasattr(value, "__required_keys__")


def sdk_typed_dicts() -> Iterator[Tuple[str, type]]:
    for name, value in vars(sdk_types).items():
        if not name.startswith("_") and is_typed_dict(value):
            yield name, value


class Shape:
    """A JSON type as a set of type names, enum values, an item shape for
    arrays, a value shape for maps and the schema name for objects."""

    def __init__(
        self,
        types: Set[str],
        *,
        enum: Optional[Set[str]] = None,
        items: "Optional[Shape]" = None,
        ref: Optional[str] = None,
    ) -> None:
        self.types = types
        self.enum = enum
        self.items = items
        self.ref = ref

    @property
    def nullable(self) -> bool:
        return "null" in self.types

    def __repr__(self) -> str:
        return f"Shape({sorted(self.types)}, enum={self.enum}, items={self.items}, ref={self.ref})"


def sdk_shape(annotation: Any) -> Shape:
    """The JSON shape a Python annotation in ``assent_client.types`` stands for."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is Union:
        shapes = [sdk_shape(a) for a in arguments if a is not type(None)]
        assert len(shapes) == 1, f"only Optional[X] unions are supported: {annotation}"
        shape = shapes[0]
        shape.types = shape.types | {"null"}
        return shape
    if origin is typing.Literal:
        return Shape({"string"}, enum={str(a) for a in arguments})
    if origin is list:
        return Shape({"array"}, items=sdk_shape(arguments[0]))
    if origin is dict:
        return Shape({"object"}, items=None if arguments[1] is Any else sdk_shape(arguments[1]))
    if is_typed_dict(annotation):
        return Shape({"object"}, ref=annotation.__name__)
    scalars = {str: "string", int: "integer", float: "number", bool: "boolean"}
    assert annotation in scalars, f"unsupported annotation {annotation!r}"
    return Shape({scalars[annotation]})


def schema_shape(document: Dict[str, Any], schema: Schema) -> Shape:
    """The JSON shape of an OpenAPI 3.1 schema, following ``$ref``s and
    the ``oneOf``/``allOf`` wrappers utoipa writes for nullable references."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = document["components"]["schemas"][name]
        shape = schema_shape(document, target)
        if "properties" in target:
            shape.ref = name
        return shape
    for combinator in ("oneOf", "anyOf", "allOf"):
        if combinator in schema:
            parts = [schema_shape(document, part) for part in schema[combinator]]
            real = [part for part in parts if part.types != {"null"}]
            assert len(real) == 1, f"unsupported {combinator}: {schema}"
            shape = real[0]
            if any(part.types == {"null"} for part in parts):
                shape.types = shape.types | {"null"}
            return shape
    declared = schema.get("type")
    types = set(declared) if isinstance(declared, list) else {declared} if declared else set()
    if not types and "properties" in schema:
        types = {"object"}
    if "enum" in schema:
        values = {v for v in schema["enum"] if v is not None}
        return Shape(types, enum={str(v) for v in values})
    items = None
    if "array" in types and "items" in schema:
        items = schema_shape(document, schema["items"])
    elif "object" in types and isinstance(schema.get("additionalProperties"), dict):
        items = schema_shape(document, schema["additionalProperties"])
    return Shape(types, items=items)


def sent_schemas(document: Dict[str, Any]) -> Set[str]:
    """The schemas the API takes as request bodies (the SDK writes them)."""
    names: Set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                ref = media.get("schema", {}).get("$ref") or next(
                    (s.get("$ref") for s in media.get("schema", {}).get("oneOf", []) if "$ref" in s), None
                )
                if ref:
                    names.add(ref.rsplit("/", 1)[-1])
    return names


def mismatches(path: str, ours: Shape, theirs: Shape, sent: bool) -> List[str]:
    problems: List[str] = []
    if ours.types - {"null"} != theirs.types - {"null"}:
        problems.append(f"{path}: the SDK reads {sorted(ours.types)}, the API says {sorted(theirs.types)}")
    if sent and ours.nullable and not theirs.nullable:
        problems.append(f"{path}: the SDK may send null, the API does not take it")
    if not sent and theirs.nullable and not ours.nullable:
        problems.append(f"{path}: the API may send null, the SDK's type does not allow it")
    if ours.enum is not None and ours.enum != theirs.enum:
        problems.append(f"{path}: the SDK knows {sorted(ours.enum)}, the API says {sorted(theirs.enum or [])}")
    if ours.ref is not None and ours.ref != theirs.ref:
        problems.append(f"{path}: the SDK reads it as {ours.ref}, the API as {theirs.ref}")
    if ours.items is not None:
        if theirs.items is None:
            problems.append(f"{path}: the API does not say what its elements are")
        else:
            problems += mismatches(f"{path}[]", ours.items, theirs.items, sent)
    return problems


def test_the_sdk_types_cover_the_schemas_the_sdk_uses() -> None:
    names = {name for name, _ in sdk_typed_dicts()}
    assert {"Approval", "Decision", "Review", "QuorumStage", "Event", "ReceiptClaims", "CheckResult"} <= names


@pytest.mark.parametrize("name", [name for name, _ in sdk_typed_dicts()])
def test_every_sdk_field_exists_in_the_openapi_document_with_the_same_type(document: Dict[str, Any], name: str) -> None:
    typed_dict = getattr(sdk_types, name)
    schemas = document["components"]["schemas"]
    assert name in schemas, f"/openapi.json has no schema {name}"
    schema = schemas[name]
    sent = name in sent_schemas(document)
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    problems: List[str] = []
    for field, annotation in typing.get_type_hints(typed_dict).items():
        if field not in properties:
            problems.append(f"{name}.{field}: not in the API's schema (fields: {sorted(properties)})")
            continue
        ours = sdk_shape(annotation)
        theirs = schema_shape(document, properties[field])
        problems += mismatches(f"{name}.{field}", ours, theirs, sent)
        always_there = field in typed_dict.__required_keys__ and not ours.nullable
        if not sent and always_there and field not in required:
            problems.append(f"{name}.{field}: the SDK counts on it, the API does not list it as required")
    assert problems == []
