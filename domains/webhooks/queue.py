TASK_QUEUE = "webhooks"
