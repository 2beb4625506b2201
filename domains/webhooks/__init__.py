"""Outbound webhooks: endpoints staff register, versioned signed events, durable delivery."""
