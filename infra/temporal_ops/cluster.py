"""The Temporal server's own health for the Operations page: does its frontend answer gRPC's
health check, and what is it (version, cluster name, the stores it persists in)?

Bounded and without retries: the page must say "down" quickly while the server restarts, not
wait out the SDK's retry schedule. Ask `cluster_health(client)` first and render the rest of the
page only when it answers."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from temporalio.api.workflowservice.v1 import GetClusterInfoRequest, GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

ASK_TIMEOUT = timedelta(seconds=3)


@dataclass(frozen=True)
class ClusterHealth:
    address: str
    serving: bool
    error: str = ""
    server_version: str = ""
    cluster_name: str = ""
    cluster_id: str = ""
    persistence_store: str = ""
    visibility_store: str = ""
    history_shards: int = 0


def _failure(exc: BaseException) -> str:
    if isinstance(exc, RPCError):
        return f"{exc.status.name}: {exc.message}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


async def cluster_health(client: Client) -> ClusterHealth:
    """The frontend's health check, then its cluster and system info (either may be refused by a
    server that does not offer it: the health check alone decides "serving")."""
    address = client.service_client.config.target_host
    try:
        serving = await client.service_client.check_health(timeout=ASK_TIMEOUT)
    except (TimeoutError, RPCError, RuntimeError) as exc:
        return ClusterHealth(address=address, serving=False, error=_failure(exc))
    service = client.workflow_service
    cluster, system = await asyncio.gather(
        service.get_cluster_info(GetClusterInfoRequest(), retry=False, timeout=ASK_TIMEOUT),
        service.get_system_info(GetSystemInfoRequest(), retry=False, timeout=ASK_TIMEOUT),
        return_exceptions=True)
    health = ClusterHealth(address=address, serving=bool(serving),
                           error="; ".join(_failure(e) for e in (cluster, system) if isinstance(e, BaseException)))
    if not isinstance(cluster, BaseException):
        health = dataclasses.replace(
            health, server_version=cluster.server_version, cluster_name=cluster.cluster_name,
            cluster_id=cluster.cluster_id, persistence_store=cluster.persistence_store,
            visibility_store=cluster.visibility_store, history_shards=cluster.history_shard_count)
    if not isinstance(system, BaseException) and not health.server_version:
        health = dataclasses.replace(health, server_version=system.server_version)
    return health
