"""Email cadences: multi-step SEND_EMAIL/WAIT sequences, one workflow per enrollment."""
