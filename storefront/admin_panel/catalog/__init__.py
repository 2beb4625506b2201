"""Admin catalog page: the products in the search index and the reindex."""
