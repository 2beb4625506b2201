TASK_QUEUE = "identity"
