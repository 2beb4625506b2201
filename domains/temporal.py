"""The one way every process connects to Temporal: same address, namespace and converter."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from .config import Config


async def connect(config: Config, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        config.temporal_address,
        namespace=config.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
