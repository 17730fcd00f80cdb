"""OpenAPI description of our authentication (drf-spectacular extension), of the team filter
and of the errors every operation answers; the served schema kept per process."""
from __future__ import annotations

from typing import Any, ClassVar

from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from portal.bounds import ID_MAX


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.auth.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sbp_…",
            "description": "Personal access token created in Settings → API tokens.",
        }


TEAM_PARAMETER = OpenApiParameter(
    "team", int, description="A team id (`GET /api/v1/teams/`): answer as a member restricted to "
    "that team (its agents' calls only, totals and pagination included). A restricted member "
    "may name only one of their own teams; another team, another organisation's or a "
    "non-numeric value is a 404.")


class KeptSchemaGenerator(SchemaGenerator):
    """`/api/schema/`'s generator: the schema made once per process for each API version and
    language, then served as made.

    Why it may: the schema is the code's alone. It is served whole to every member
    (`SERVE_PUBLIC`: no operation is left out by permission); the member only signs the mock
    requests drf-spectacular builds per view, and no view's description reads them
    (`tests/reports/test_api_schema.py` generates it for owners of two organisations and
    compares). Made per request it cost ~0.34 s of CPU. The `spectacular` command keeps
    drf-spectacular's own generator."""

    _made: ClassVar[dict[tuple[Any, ...], dict]] = {}

    def get_schema(self, request=None, public=False):  # noqa: ANN001, ANN201 - its API
        if self.urlconf is not None or self.patterns is not None:
            return super().get_schema(request=request, public=public)
        key = (self.api_version or getattr(request, "version", None),
               translation.get_language(), public)
        schema = self._made.get(key)
        if schema is None:
            schema = self._made[key] = super().get_schema(request=request, public=public)
        return schema

    @classmethod
    def forget(cls) -> None:
        """Drop what was made (a test that changes what the schema says)."""
        cls._made.clear()


class TeamAwareAutoSchema(AutoSchema):
    """The default schema class: an operation of a view that takes the team filter
    (`TenantScopedViewSet.team_scoped`) documents `team`, in one place for every such view."""

    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if getattr(self.view, "team_scoped", False):
            return [*parameters, TEAM_PARAMETER]
        return parameters


# --- Error responses every operation really answers (schema post-processing hook) ----------
# Views document their success shape (and the compatible API its own 401/404/422 envelope);
# the errors DRF and Django answer for every operation are added here, in one place, so
# clients and `tests/e2e/test_api_contract.py` (Schemathesis) can rely on the documented codes.

ERROR_COMPONENT = "ApiError"
ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` for most errors; a 400 on input lists messages per field.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
# Django answers a path that matches no route (e.g. a non-numeric id) with its HTML 404 page;
# gunicorn answers a request line over 4094 bytes with an HTML 414.
HTML = {"text/html": {"schema": {"type": "string"}}}
READ_METHODS = {"get", "head", "options"}


def _error(description: str, *, html: bool = False) -> dict:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    return {"description": description, "content": {**content, **(HTML if html else {})}}


def _is_id(name: str) -> bool:
    return name in ("id", "environment", "rule", "team") or name.endswith(("_pk", "_id")) \
        and name != "agent_id"  # the Talkover-compatible agent id is the upstream's text


def _bound_id(schema: dict) -> None:
    """An integer id without bounds gets the bounds `portal.bounds` enforces (1 … bigint),
    so clients know them and the contract run tries their edges."""
    if schema.get("type") == "integer" and "maximum" not in schema:
        schema.update(minimum=1, maximum=ID_MAX)


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the error responses of every operation.

    - 400: input (query parameters or body) that fails validation (the Talkover-compatible
      operations document their own 422 instead);
    - 401: no, an unknown, expired or revoked token;
    - 403: a member whose role may not change this (write operations);
    - 404: another organisation's or a missing object, a page past the end, an unknown path;
    - 414: (operations with query parameters) a request line too long for the web server;
    - 429: the API throttle (`API_THROTTLE_RATE`), or too many invalid tokens from one address.

    Ids (path and query parameters, the id lists of bodies) document their bounds: 1 … the
    largest bigint (`portal.bounds`). Responses a view documents itself are kept. The
    Talkover-compatible operations (those documenting 422) and the paginated lists read an
    empty query value as absent: their query parameters say `allowEmptyValue`. The browsable
    API (`format=api`, HTML for people in a browser) is left out of the documented formats:
    it is no part of the contract.
    """
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for component in result["components"]["schemas"].values():
        for prop in component.get("properties", {}).values():
            if prop.get("type") == "array" and not prop.get("readOnly"):
                _bound_id(prop.get("items", {}))  # the ids a body lists (`environments`)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if _is_id(parameter.get("name", "")):
                    schema = parameter.get("schema", {})
                    _bound_id(schema.get("items", schema))
            responses = operation["responses"]
            has_input = bool(operation.get("parameters") or operation.get("requestBody"))
            wanted = {
                "401": _error("Authentication credentials missing or not valid."),
                "404": _error("Not found (or not visible to this token).", html=True),
                "429": _error("Too many requests; retry after the Retry-After header."),
            }
            compatible = "422" in responses  # the Talkover-compatible API answers 422
            if has_input and not compatible:
                wanted["400"] = _error("Invalid input.")
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                wanted["414"] = {"description": "Request line too long.", "content": HTML}
            if method not in READ_METHODS:
                wanted["403"] = _error("This member's role may not do this.")
            for code, response in wanted.items():
                responses.setdefault(code, response)
            if "404" in responses:
                responses["404"].setdefault("content", {}).update(HTML)
            # An empty query value means "absent" in the Talkover-compatible operations (as in
            # Talkover) and in the paginated lists (DRF's `page` and django-filter's filters).
            names = {p.get("name") for p in operation.get("parameters", [])}
            empty_is_absent = compatible or "page" in names
            for parameter in operation.get("parameters", []):
                if empty_is_absent and parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
                schema = parameter.get("schema", {})
                if parameter.get("name") == "format" and "api" in schema.get("enum", []):
                    schema["enum"] = [value for value in schema["enum"] if value != "api"]
    return result
