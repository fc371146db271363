"""Validates HTTP answers against the OpenAPI document they came from (3.0 schemas, checked with
jsonschema after converting `nullable`). Used by the generated-client demo on every answer."""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema 2020-12: `nullable: true` becomes a union with null."""
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _convert(value) for key, value in node.items()
                 if key not in ("nullable", "discriminator", "example", "xml", "externalDocs")}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@dataclass
class Checked:
    method: str
    path: str
    status: int
    problems: list[str] = field(default_factory=list)


class OpenApiValidator:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = _convert(copy.deepcopy(document.get("components", {})))
        self.routes = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path, item)
                       for path, item in document["paths"].items()]
        self.checked: list[Checked] = []

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for pattern, template, item in self.routes:
            if pattern.match(path) and method.lower() in item:
                return template, item[method.lower()]
        return None

    def validate(self, *, method: str, path: str, status: int, content_type: str, body: bytes) -> Checked:
        checked = Checked(method.upper(), path, status)
        self.checked.append(checked)
        found = self.operation(method, path)
        if found is None:
            checked.problems.append("not an operation of the schema")
            return checked
        template, operation = found
        response = operation.get("responses", {}).get(str(status))
        if response is None:
            checked.problems.append(f"status {status} is not documented for {method.upper()} {template}")
            return checked
        content = response.get("content")
        if not content:
            if body:
                checked.problems.append("a body where the schema documents none")
            return checked
        media = content_type.split(";")[0].strip()
        if media not in content:
            checked.problems.append(f"content type {media} is not documented ({sorted(content)})")
            return checked
        if media != "application/json":
            return checked
        try:
            instance = json.loads(body)
        except ValueError:
            checked.problems.append("the body is not JSON")
            return checked
        schema = {"components": self.components, **_convert(content[media]["schema"])}
        for error in Draft202012Validator(schema).iter_errors(instance):
            where = "/".join(str(p) for p in error.absolute_path)
            checked.problems.append(f"{method.upper()} {template} {status} at /{where}: {error.message[:300]}")
        return checked

    def problems(self) -> list[str]:
        return [problem for checked in self.checked for problem in checked.problems]
