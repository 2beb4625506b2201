"""Returns (RMA): one workflow per return, linked to its order by signals (docs/domains/returns.md)."""
