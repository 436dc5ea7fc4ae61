"""What drf-spectacular needs to know about the shared plumbing: the API key scheme. Imported
once the apps are ready (CommonConfig.ready), since DRF imports common while it starts up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Api-Key <key>` in the OpenAPI schema."""

    target_class = "common.api_keys.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; a key holds only the permissions it was issued with.",
        }


class AmountStringFieldExtension(OpenApiSerializerFieldExtension):
    """An amount is a string of ASCII digits: requests carry the pattern the field enforces;
    answers may be negative (a credit)."""

    target_class = "common.serializers.AmountStringField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        from common.serializers import SIGNED_AMOUNT_PATTERN

        field = self.target
        pattern = field.pattern if direction == "request" else SIGNED_AMOUNT_PATTERN
        return {"type": "string", "format": "decimal", "pattern": pattern, "example": "12.50"}


class CurrencyFieldExtension(OpenApiSerializerFieldExtension):
    """A request names one of the operator's currencies; an answer may name any ISO 4217 code
    (an account opened before the operator stopped billing in it)."""

    target_class = "common.serializers.CurrencyField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        if direction == "request":
            return {"type": "string", "enum": list(settings.CURRENCIES), "example": "GBP"}
        return {"type": "string", "pattern": "^[A-Z]{3}$", "example": "GBP"}


# Marks a parameter's schema whose value, though it matches the schema, a business rule may
# still refuse (422), e.g. a phone number that is not a valid number of the operator's country.
RULE_CHECKED = "x-checked-by-rule"


def schema_document_error_statuses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation documents every error status the
    shared plumbing can answer, in the one error shape, so no answer is undocumented:
    401/403/406/429 everywhere, 404 where a path names an object or a list pages, 400 where
    there is any parameter or body to get wrong, 413/415/422 where there is a body, 422 where
    an Idempotency-Key may be reused or a list filter checked by a rule."""
    from common.api import ERROR_MEANINGS

    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    retry_after = {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 1},
            "description": "Seconds to wait before trying again.",
        }
    }
    components = result.get("components", {}).get("schemas", {})
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            parameters = operation.get("parameters", [])
            names = {parameter["name"] for parameter in parameters}
            has_body = "requestBody" in operation
            statuses = {401, 403, 406, 429}
            if "{" in path or "page" in names:
                statuses.add(404)
            if parameters or has_body:
                statuses.add(400)
            if has_body:
                statuses |= {413, 415, 422}
                body = operation["requestBody"]
                schema = body["content"].get("application/json", {}).get("schema", {})
                if "$ref" in schema:
                    schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
                if "oneOf" in schema or schema.get("required"):
                    body["required"] = True  # a body with required fields cannot be left out
            if any(RULE_CHECKED in parameter.get("schema", {}) for parameter in parameters):
                statuses.add(422)  # a filter shaped right that a rule refuses (msisdn)
            if "Idempotency-Key" in names:
                statuses.add(422)
            responses = operation.setdefault("responses", {})
            for code in sorted(statuses):
                entry = responses.setdefault(
                    str(code), {"description": ERROR_MEANINGS[code], "content": error}
                )
                if code == 429:
                    entry.setdefault("headers", retry_after)
    return result


# What DRF's and Django's CharFields refuse although a bare `type: string` would allow it: a NUL
# character (PostgreSQL cannot store one), and, where a value is required, one that is only
# whitespace (it is stripped to nothing). The schema says so, so such a value is a 400 by the
# schema's own rules.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK_NO_NUL = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _text_pattern(schema: dict[str, Any]) -> None:
    if schema.get("type") != "string" or {"format", "enum", "pattern"} & set(schema):
        return
    schema["pattern"] = NOT_BLANK_NO_NUL if schema.get("minLength", 0) >= 1 else NO_NUL


def schema_document_text_rules(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: free-text request fields and query parameters
    carry the pattern their form field enforces (see NO_NUL, NOT_BLANK_NO_NUL)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request"):
            continue
        for prop in component.get("properties", {}).values():
            _text_pattern(prop)
            for option in prop.get("oneOf", []):
                _text_pattern(option)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _text_pattern(parameter.get("schema", {}))
    return result
