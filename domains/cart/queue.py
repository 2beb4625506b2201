"""The cart domain's task queue."""

TASK_QUEUE = "cart"
