"""Tooling for the people who build debate: benchmarks, the load test, retrieval evaluation,
data builders and training. The product never imports this package (tests/test_imports.py)."""
