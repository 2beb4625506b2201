"""The cart: one long-lived workflow per cart, created lazily by update-with-start."""
