"""Checking: claims, the deterministic citation checker, the LLM judge, the guard that
releases only checked sentences, the evidence list and reply records, and the metrics."""
