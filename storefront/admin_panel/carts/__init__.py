"""Admin cart pages: the carts running now and one cart with its checkout and holds."""
