"""The fulfillment domain's task queue."""

TASK_QUEUE = "fulfillment"
