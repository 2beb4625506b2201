"""Admin cadence pages: definitions, enrolling contacts, and one enrollment."""
