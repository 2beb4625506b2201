"""The returns domain's task queue (hosted beside the orders queue)."""

TASK_QUEUE = "returns"
