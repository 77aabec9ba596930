"""The embedding model: offline, normalised, loaded once, with one shared text cache."""

from __future__ import annotations

import math

from debate.core.embeddings import get_embedder


def test_model_is_loaded_once_per_process_and_vectors_are_normalised(embedder):
    assert get_embedder() is embedder
    (vector,) = embedder.embed(["Serbia opened a gas interconnector with Bulgaria."])
    assert len(vector) == embedder.dimension == 384
    assert math.isclose(sum(x * x for x in vector), 1.0, rel_tol=1e-4)


def test_cached_embeddings_equal_fresh_ones_and_are_computed_once(embedder):
    texts = ["A unique sentence about Niš for the cache test.", "Another one, about Pančevo."]
    first = embedder.embed_cached(texts + texts[:1])
    assert first[0] == first[2]
    fresh = embedder.embed(texts)
    for cached, new in zip(first[:2], fresh, strict=True):
        assert math.isclose(sum(a * b for a, b in zip(cached, new, strict=True)), 1.0, rel_tol=1e-4)
    calls = []
    original = embedder.embed
    embedder.embed = lambda batch, **kw: calls.append(batch) or original(batch, **kw)
    try:
        assert embedder.embed_cached(texts) == first[:2]
        assert calls == []  # served from the cache shared by the engine and the checker
    finally:
        del embedder.embed


def test_length_sorted_batches_return_vectors_in_input_order(embedder):
    """embed() encodes longest first (little padding) and puts the vectors back in the
    order given: each equals the text's vector encoded on its own."""
    import numpy as np

    texts = [
        "Short.",
        "A much longer sentence about gas pipelines, sanctions and votes at the United "
        "Nations General Assembly, long enough to need padding beside the short ones. " * 3,
        "Medium length text about a vote in 2022.",
        "Short again.",
        "Another fairly long text about energy security in the Balkans and what a "
        "neighbouring state buys from whom, and at which price, over ten years.",
    ]
    batched = np.array(embedder.embed(texts, batch_size=2))
    alone = np.array([embedder.embed([t])[0] for t in texts])
    assert np.allclose(batched, alone, atol=1e-4)
    assert batched.shape == (len(texts), embedder.dimension)
    assert embedder.embed([]) == []
