"""The worker process: one Temporal client, one Worker per task queue."""
