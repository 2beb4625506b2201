"""`python -m domains.webhooks.schema`: the JSON schema of the envelope every webhook body
shares (docs/webhooks.schema.json is this output; a test keeps them equal)."""

from __future__ import annotations

import json
from typing import Any

from .messages import Envelope


def envelope_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = ("A webhook body. `id` is also the `webhook-id` header, the same on every retry and "
                             "redelivery; `data` depends on `type` (docs/domains/webhooks.md).")
    return schema


def main() -> None:
    print(json.dumps(envelope_schema(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
