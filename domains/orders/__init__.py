"""Order management: one workflow per order."""
