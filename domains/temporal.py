"""The one way every process connects to Temporal: same address, namespace and converter."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from .config import Config


def business_error(exc: BaseException | None) -> ApplicationError | None:
    """The ApplicationError under a failure, raised by a handler directly or by an activity."""
    while exc is not None and not isinstance(exc, ApplicationError):
        exc = getattr(exc, "cause", None)
    return exc


async def connect(config: Config, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        config.temporal_address,
        namespace=config.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
