"""Infrastructure: configuration, the Temporal connection, the write store and its schema."""
