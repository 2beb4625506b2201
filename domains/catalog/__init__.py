"""The catalog: products, variants and collections; the importer and the search reindex."""
