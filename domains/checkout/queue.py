"""The checkout domain's task queue."""

TASK_QUEUE = "checkout"
