"""Security proofs: production settings, who may reach which route, API fuzzing."""
