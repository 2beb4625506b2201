"""Admin Operations view: task queues, workers and workflows, read from Temporal."""
