"""The orders domain's task queue."""

TASK_QUEUE = "orders"
