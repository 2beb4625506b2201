"""The catalog's task queue."""

TASK_QUEUE = "catalog"
