"""Walks an OpenAPI document and lists what makes it unusable for a generated client."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

NO_BODY_STATUSES = {"204", "304"}


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        _, _, path = schema["$ref"].partition("#/")
        node: Any = document
        for part in path.split("/"):
            node = node[part]
        schema = node
    return schema


def _walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def _is_schema_position(where: str) -> bool:
    last = where.rsplit("/", 1)[-1]
    parent = where.rsplit("/", 2)[-2] if where.count("/") >= 2 else ""
    return last in ("schema", "items", "additionalProperties") or parent in ("properties", "schemas") \
        or parent in ("oneOf", "anyOf", "allOf")


def untyped_schemas(document: dict[str, Any]) -> list[str]:
    """Every schema that says nothing: `{}` or `{"type": "object"}` without properties or a map type."""
    found = []
    for where, node in _walk(document, "#"):
        if not _is_schema_position(where) or not isinstance(node, dict):
            continue
        if where.endswith("/additionalProperties") and node == {}:
            continue  # a map whose values are free JSON is a declared choice, not a missing type
        keys = set(node) - {"description", "readOnly", "writeOnly", "nullable", "title", "example", "default"}
        if not keys:
            found.append(f"{where}: empty schema")
        elif node.get("type") == "object" and not ({"properties", "additionalProperties", "oneOf", "allOf",
                                                    "anyOf"} & set(node)):
            found.append(f"{where}: bare object")
    return found


def free_form(schema: dict[str, Any]) -> bool:
    """An object with no declared properties (any keys, any values)."""
    return schema.get("type") == "object" and not ({"properties", "oneOf", "allOf", "anyOf"} & set(schema))


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def contract_problems(document: dict[str, Any]) -> list[str]:
    problems = untyped_schemas(document)
    error_components = {k for k in document["components"]["schemas"] if k.startswith("Error")}
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        body = operation.get("requestBody")
        if body is not None:
            for media, content in body.get("content", {}).items():
                schema = resolve(content.get("schema") or {}, document)
                variants = [resolve(v, document) for v in schema.get("oneOf", [])] or [schema]
                if media == "application/json" and any(v.get("additionalProperties") is not False for v in variants):
                    problems.append(f"{where}: the {media} body allows unknown properties")
        for media, content in (body or {}).get("content", {}).items():
            if free_form(resolve(content.get("schema") or {}, document)):
                problems.append(f"{where}: the {media} body is an untyped object")
        responses = operation.get("responses", {})
        if method in ("post", "put", "patch", "delete") and "400" not in responses:
            problems.append(f"{where}: 400 not documented")
        if operation.get("security") not in (None, [], [{}]) and "401" not in responses \
                and {"jwtAuth": []} in operation.get("security", []) and {} not in operation.get("security", []):
            problems.append(f"{where}: 401 not documented")
        if "{" in path and "404" not in responses:
            problems.append(f"{where}: 404 not documented")
        for status, response in responses.items():
            if status in NO_BODY_STATUSES:
                continue
            content = response.get("content")
            if not content:
                problems.append(f"{where} {status}: no body schema")
                continue
            for media, media_content in content.items():
                if "schema" not in media_content:
                    problems.append(f"{where} {status} {media}: no schema")
                    continue
                schema = resolve(media_content["schema"], document)
                if free_form(schema) or (schema.get("type") == "array"
                                         and free_form(resolve(schema.get("items", {}), document))):
                    problems.append(f"{where} {status} {media}: untyped object")
            if status.startswith(("4", "5")):
                ref = (content.get("application/json") or {}).get("schema", {}).get("$ref", "")
                if ref.rsplit("/", 1)[-1] not in error_components:
                    problems.append(f"{where} {status}: not the error shape")
        for parameter in operation.get("parameters", []):
            if parameter["name"] in ("standard", "network", "status"):
                schema = resolve(parameter.get("schema", {}), document)
                if "enum" not in schema:
                    problems.append(f"{where}: parameter {parameter['name']} is not an enum")
    return problems
