"""The corpus: motion packs, source loaders, passages with exact offsets, the gazetteer,
ingest into the Chroma store and the BM25 index, and background upload jobs."""
