"""The OpenAPI document's description of API tokens (`Authorization: Bearer ck_<id>_<secret>`),
so clients and the schema's own checks know how the JSON API authenticates."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "storefront.accounts.tokens.BearerTokenAuthentication"  # a path: no import cycle
    name = "apiToken"
    priority = 1

    def get_security_requirement(self, auto_schema):
        # Only the integrations API needs a token; elsewhere one is optional (`{}`: none at all).
        if auto_schema.path.startswith("/api/staff/"):
            return {self.name: []}
        return [{self.name: []}, {}]

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "ck_<id>_<secret>",
                "description": "An API token from /admin/tokens/; optional where the operation allows anonymous use."}
