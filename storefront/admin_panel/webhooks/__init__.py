"""Admin pages for outbound webhooks: endpoints, their delivery logs, ping, disable, redeliver."""
