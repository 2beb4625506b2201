"""Inputs, results and query answers of the catalog workflows and activities."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class ReindexInput(BaseModel):
    page_size: int = Field(default=200, ge=1, le=5000)
    # The SDK throttles heartbeats to 80% of this, so it also sets how fresh progress is.
    heartbeat_timeout_seconds: float = Field(default=10, gt=0)
    # A pause between pages spares a busy production store; 0 runs flat out.
    page_delay_seconds: float = Field(default=0, ge=0, le=60)


class ReindexStage(StrEnum):
    STARTING = "starting"
    INDEXING = "indexing"
    SWITCHING = "switching"
    DONE = "done"


class IndexPageInput(BaseModel):
    generation: str
    page_size: int
    page_delay_seconds: float = 0


class IndexProgress(BaseModel):
    """Heartbeat details: where a retried activity resumes."""

    cursor: str | None = None
    indexed: int = 0
    attempt_started_at_indexed: int = 0


class IndexResult(BaseModel):
    indexed: int
    resumed_from: int  # products already indexed when the last attempt began (0 = first attempt)


class ReindexStatus(BaseModel):
    stage: ReindexStage
    generation: str | None = None
    indexed: int = 0
    resumed_from: int = 0
    total: int | None = None
