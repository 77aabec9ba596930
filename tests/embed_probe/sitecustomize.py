"""An embedding counter for a `debate serve` started by the tests: Python imports this at
start-up when this folder is on PYTHONPATH (tests/test_background_upload.py puts it there).
With EMBED_PROBE_LOG set, every call of Embedder.embed made with a progress callback (as
indexing makes it; queries and cached sentence embeddings make none) appends one JSON line
{"pid", "texts"} to that file once its vectors are computed. Nothing else changes."""

import os

_LOG = os.environ.get("EMBED_PROBE_LOG")

if _LOG:
    import json

    from debate.core import embeddings

    _embed = embeddings.Embedder.embed

    def embed(self, texts, *args, **kwargs):
        vectors = _embed(self, texts, *args, **kwargs)
        progress = kwargs.get("progress", args[1] if len(args) > 1 else None)
        if progress is not None:
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps({"pid": os.getpid(), "texts": list(texts)}) + "\n")
        return vectors

    embeddings.Embedder.embed = embed
