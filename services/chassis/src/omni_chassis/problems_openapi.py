"""The problem answers in an OpenAPI document: every error response refers to one `Problem` schema.

`document_problems(doc)` (applied by `install_problem_handlers` to a service's document):
- replaces FastAPI's `HTTPValidationError` 422 with the problem, and every 4xx/5xx a route declared with
  `responses={409: {...}}` keeps its description but gets the problem as `application/problem+json`;
- states in every string schema that it holds no NUL character (the chassis's `NulGuard` refuses one);
- adds 422 to every operation with inputs, 404 to every operation with path parameters, 409 to every
  write (POST/PUT/PATCH/DELETE: a conflict with the current state), and 500 to every operation.
`add_responses(doc, codes)` adds more (the gateway adds 401/403/429/... to each of its routes).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WRITES = ("post", "put", "patch", "delete")

DESCRIPTIONS = {
    400: "Bad request: the request cannot be read (problem details)",
    401: "Unauthorized: no API key, or an unknown one (problem details)",
    403: "Forbidden: the key's role may not call this route (problem details)",
    404: "Not found: no such resource (problem details)",
    405: "Method not allowed (problem details)",
    409: "Conflict: the request contradicts the resource's current state (problem details)",
    413: "The request body is too large (problem details)",
    422: "Invalid request: `problems` lists every failure with its path (problem details)",
    429: "Rate limited: retry after `Retry-After` seconds (problem details)",
    500: "Internal error: nothing of it is revealed; it is logged (problem details)",
    502: "The upstream service is unavailable (problem details)",
    504: "The upstream service did not answer in time (problem details)",
}


def problem_schemas() -> dict[str, Any]:
    from .errors import Problem

    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"Problem": schema, **defs}


def problem_response(code: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or DESCRIPTIONS.get(code) or HTTPStatus(code).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method, op in item.items():
            if method in HTTP_METHODS and isinstance(op, dict):
                out.append((path, method, op))
    return out


def add_responses(op: dict[str, Any], codes: list[int] | tuple[int, ...]) -> None:
    responses = op.setdefault("responses", {})
    for code in codes:
        if str(code) not in responses:
            responses[str(code)] = problem_response(code)


NO_NUL = "^[^\\x00]*$"


def no_nul_strings(node: Any) -> None:
    """State in every string schema what the chassis's NUL guard enforces: no NUL character."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not ({"enum", "const", "format"} & node.keys()):
            if "pattern" not in node:
                node["pattern"] = NO_NUL
            elif "not" not in node:
                node["not"] = {"pattern": "\\x00"}
        for key, value in node.items():
            if key not in ("examples", "example", "default"):
                no_nul_strings(value)
    elif isinstance(node, list):
        for value in node:
            no_nul_strings(value)


def document_problems(doc: dict[str, Any]) -> dict[str, Any]:
    no_nul_strings(doc.get("paths"))
    no_nul_strings(doc.get("components"))
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(problem_schemas())
    for path, method, op in _operations(doc):
        if path.startswith(("/health/", "/metrics")):
            continue
        responses = op.setdefault("responses", {})
        for code, resp in list(responses.items()):
            if code.isdigit() and int(code) >= 400:
                described = resp.get("description") if isinstance(resp, dict) else None
                if described in (None, "", "Validation Error", HTTPStatus(int(code)).phrase):
                    described = None
                responses[code] = problem_response(int(code), described)
        codes = [500]
        if op.get("parameters") or op.get("requestBody"):
            codes.append(422)
        if "{" in path:
            codes.append(404)
        if method in WRITES:
            codes.append(409)
        add_responses(op, sorted(codes))
        op["responses"] = dict(sorted(responses.items()))
    return doc
