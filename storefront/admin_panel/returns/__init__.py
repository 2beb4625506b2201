"""Admin return pages: the list (filters by status, age, reason) and one return with its actions."""
