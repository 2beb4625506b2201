TASK_QUEUE = "cadences"
