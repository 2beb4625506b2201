"""The one way every process connects to Temporal: same address, namespace and converter."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.runtime import Runtime

from infra.config import Config
from infra.payload_codec import EncryptionCodec, Keyring, load_keyring


def business_error(exc: BaseException | None) -> ApplicationError | None:
    """The ApplicationError under a failure, raised by a handler directly or by an activity."""
    while exc is not None and not isinstance(exc, ApplicationError):
        exc = getattr(exc, "cause", None)
    return exc


def converter_for(keyring: Keyring, *, encrypt: bool = True) -> DataConverter:
    """Pydantic's JSON payloads, sealed by the payload codec (infra/payload_codec.py); with
    `encrypt` False written plain (sealed ones are still opened)."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keyring, encrypt=encrypt))


def data_converter(config: Config) -> DataConverter:
    """The shop's data converter: every client, worker and replayer uses this one."""
    return converter_for(load_keyring(config.codec_keys, config.data_dir), encrypt=config.codec_encrypt)


async def connect(config: Config, runtime: Runtime | None = None,
                  interceptors: Sequence[Interceptor] = ()) -> Client:
    return await Client.connect(
        config.temporal_address,
        namespace=config.temporal_namespace,
        data_converter=data_converter(config),
        runtime=runtime,
        interceptors=interceptors,
    )


# Custom search attributes the workflows set; registered once per namespace (idempotent).
SEARCH_ATTRIBUTES = {
    "OrderConfirmation": "KEYWORD",  # orders: find an order by confirmation code
    "SupplierStrategy": "KEYWORD",  # fulfillment: list the supplier orders waiting for a person
    "CadenceId": "KEYWORD",  # cadences: a cadence's enrollments (live counts, the propagation of an edit)
    "CadenceContact": "KEYWORD",  # cadences: a contact's enrollments (unsubscribe ends them all)
    "CadenceStep": "KEYWORD",  # cadences: the id of the step an enrollment is on
    "CadenceState": "KEYWORD",  # cadences: running, waiting, paused, completed, cancelled, failed
}


async def ensure_search_attributes(client: Client, namespace: str = "default") -> None:
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )
    from temporalio.service import RPCError, RPCStatusCode

    try:
        existing = set((await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace))).custom_attributes)
    except RPCError as exc:
        if exc.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server cannot list them
            raise
        existing = set()
    missing = {name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind}") for name, kind in SEARCH_ATTRIBUTES.items()
               if name not in existing}
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:  # another process registered them first
                raise
