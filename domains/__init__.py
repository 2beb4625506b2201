"""Commerce domains: pure Python and temporalio, one package per domain (no Django here)."""
