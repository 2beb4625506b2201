"""Server-rendered shopper pages."""
