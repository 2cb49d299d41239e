"""The domain sentence model: all-MiniLM-L6-v2 fine-tuned on our questions at the ask level.

Shipped in this package as one int8 ONNX file (``models/openfloor-minilm-policing-int8.onnx``),
produced by ``scripts/train_embedder.py`` from the committed pairs in
``bench/data/training/pairs.jsonl`` (built by ``python -m bench.training_pairs``; this file was
trained on :data:`TRAINED_ON`); its sha256 is checked before it is loaded. Same architecture,
tokenizer and speed as the base model; see docs/embedding-choice.md ("Domain model") for what
it gains on blind sets.
"""

from __future__ import annotations

from pathlib import Path

from workers.pipeline.embedding import (
    MODELS_DIR,
    ModelIntegrityError,
    OnnxSentenceEmbedder,
    _sha256,
)

DOMAIN_MODEL_PATH = MODELS_DIR / "openfloor-minilm-policing-int8.onnx"
#: sha256 of the shipped file (printed by scripts/train_embedder.py).
DOMAIN_MODEL_SHA256 = "9d64227a75a44175ea7743c8d4ce19bfd5862b026554298aa4a9f58eb40a94f2"
DOMAIN_MODEL_NAME = "openfloor-minilm-policing-int8"
#: The training data of the shipped file (``python -m bench.training_pairs`` arguments).
TRAINED_ON = (
    "policing_questions (asks) + blind/group1-17 + blind/group22-27 + written/t1-t6: "
    "no --exclude (16908 triples), lr 6e-5, 2 torch threads"
)


def load_domain_model(
    threads: int | None = None, path: Path = DOMAIN_MODEL_PATH
) -> OnnxSentenceEmbedder:
    """Load the shipped domain model after checking its sha256."""
    if not path.exists():
        raise ModelIntegrityError(f"the domain model {path} is missing from the package")
    if _sha256(path) != DOMAIN_MODEL_SHA256:
        raise ModelIntegrityError(f"{path} does not match the pinned sha256")
    return OnnxSentenceEmbedder(path, name=DOMAIN_MODEL_NAME, threads=threads)
