"""Check answers and examples against the OpenAPI document of the officials' API.

The document is OpenAPI 3.0; its schemas become JSON Schema (draft 7) by turning ``nullable``
into ``anyOf [..., null]``. ``check_response`` is called by the ``Api`` test client on every
answer it receives, so every answer any test sees must match the document.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, RefResolver

JSON_TYPES = ("application/json", "application/geo+json")


def to_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema (or document) as JSON Schema: ``nullable: true`` allows null."""
    if isinstance(node, list):
        return [to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Contract:
    """The document, and validators for its schemas (``$ref`` resolved inside it)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._root = to_json_schema(copy.deepcopy(document))
        self._resolver = RefResolver.from_schema(self._root)
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in document["paths"]
        ]

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = Draft7Validator(to_json_schema(schema), resolver=self._resolver)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in schema:
            return self._resolver.resolve(schema["$ref"])[1]
        return schema

    def operation(self, method: str, url: str) -> tuple[str, dict[str, Any]] | None:
        path = urlsplit(url).path
        for pattern, template in self._templates:
            if pattern.match(path):
                op = self.document["paths"][template].get(method.lower())
                return (template, op) if op is not None else None
        return None

    def check_response(self, method: str, url: str, status: int, ctype: str, body: Any) -> None:
        """AssertionError when the answer is not what the document says for this operation."""
        found = self.operation(method, url)
        if found is None:  # no such operation (unknown path or method): nothing documented
            return
        template, op = found
        responses = op["responses"]
        spec = responses.get(str(status)) or responses.get("default")
        where = f"{method.upper()} {template} -> {status}"
        assert spec is not None, f"{where}: status not in the document"
        content = spec.get("content") or {}
        ctype = ctype.split(";")[0].strip().lower()
        media = content.get(ctype)
        if media is None and ctype in JSON_TYPES:
            media = next((content[t] for t in JSON_TYPES if t in content), None)
        assert media is not None or not content, f"{where}: content type {ctype} not documented"
        if media is None or ctype not in JSON_TYPES:
            return
        problems = self.errors(media["schema"], body)
        assert not problems, f"{where}: answer does not match the document: {problems[:5]}"


@lru_cache(maxsize=1)
def contract() -> Contract:
    from bot.officials.openapi import openapi_document

    return Contract(openapi_document())


def check(response: Any) -> None:
    """Check a ``requests`` response of the officials' API against the document."""
    path = urlsplit(response.url).path
    if not path.startswith("/api/v1/"):
        return
    ctype = response.headers.get("content-type", "")
    body = response.json() if ctype.split(";")[0].strip() in JSON_TYPES else None
    contract().check_response(response.request.method, path, response.status_code, ctype, body)
