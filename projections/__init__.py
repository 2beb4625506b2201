"""The read side: index definitions, projectors that activities call, and search queries."""
