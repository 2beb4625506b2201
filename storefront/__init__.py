"""The Django project: shopper storefront, staff admin panel and JSON APIs (no domain state)."""
