"""Search: hybrid retrieval over a motion's passages (BM25 and dense vectors, fused)."""
