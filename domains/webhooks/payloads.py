"""The versioned `data` of each event type, and the JSON schema of every body.

The domain that emits an event owns the model of its `data` (orders: `orders/webhook_events.py`,
inventory: `inventory/webhook_events.py`, catalog: `catalog/product_events.py`; the ping's is
here): each is an `EventData` with its `VERSION`, which becomes the envelope's `version`. An
emitter builds its data through its model, so a body cannot carry what the schema does not say.
`body_schema` turns a map of type -> model (the web layer holds the whole map:
`storefront/webhook_payloads.py`, since this domain may not import the emitters) into one schema
whose `oneOf` is chosen by `type`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from .messages import EventType

SCHEMA_ID = "https://json-schema.org/draft/2020-12/schema"


class EventData(BaseModel):
    """An event type's `data`. `VERSION` changes only when it changes incompatibly (a field
    removed, renamed or retyped); adding a field keeps it (receivers ignore what they do not know)."""

    model_config = ConfigDict(extra="forbid")
    VERSION: ClassVar[int] = 1


class PingData(EventData):
    """`data` of `webhook.ping` (version 1)."""

    endpoint_id: str


def _title(event_type: EventType) -> str:
    return "".join(part.title() for part in re.split(r"[._]", event_type.value)) + "Event"


def body_adapter(models: Mapping[EventType, type[EventData]]) -> TypeAdapter[Any]:
    """Validates a whole body (`validate_json`) against the model of its `type`."""
    variants: list[Any] = []
    for kind, model in models.items():
        kind_type: Any = Literal[kind.value]
        version_type: Any = Literal[model.VERSION]
        variants.append(create_model(
            _title(kind), __doc__=f"A `{kind.value}` body: `data` is {model.__name__} version {model.VERSION}.",
            __config__=ConfigDict(extra="forbid"),
            id=(str, ...), type=(kind_type, ...), version=(version_type, model.VERSION),
            created_at=(datetime, ...), data=(model, ...)))
    body: Any = Annotated[Union[tuple(variants)], Field(discriminator="type")]  # noqa: UP007
    return TypeAdapter(body)


def body_schema(models: Mapping[EventType, type[EventData]]) -> dict[str, Any]:
    missing = sorted(set(EventType) - set(models))
    if missing:
        raise ValueError(f"no data model for {', '.join(missing)}")
    schema = body_adapter(models).json_schema()
    schema["$schema"] = SCHEMA_ID
    schema["title"] = "WebhookBody"
    schema["description"] = (
        "A webhook body: the envelope {id, type, version, created_at, data}; `type` picks the variant and "
        "with it `data` and its `version`. `id` is also the `webhook-id` header, the same on every retry and "
        "redelivery (docs/domains/webhooks.md).")
    return schema
