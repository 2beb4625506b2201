"""The inventory domain's task queue."""

TASK_QUEUE = "inventory"
