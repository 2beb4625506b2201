"""The one inventory workflow: every stock change goes through it, so nothing oversells."""

INVENTORY_WORKFLOW_ID = "inventory-service"
