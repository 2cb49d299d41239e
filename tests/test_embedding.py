"""The offline sentence embedder: real model, real policing-style questions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workers.pipeline import embedding
from workers.pipeline.domain_model import DOMAIN_MODEL_NAME, DOMAIN_MODEL_PATH, load_domain_model
from workers.pipeline.embedding import (
    Embedder,
    ModelIntegrityError,
    default_embedder,
    l2_normalise,
    prepare_minilm_int8,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def emb() -> Embedder:
    return default_embedder()


def cos(e: Embedder, a: str, b: str) -> float:
    v = e.embed([a, b])
    return float(v[0] @ v[1])


def test_default_embedder_is_cached_and_well_formed(emb: Embedder) -> None:
    assert default_embedder() is emb
    assert isinstance(emb, Embedder)
    assert emb.dim == 384
    assert emb.name == DOMAIN_MODEL_NAME  # the fine-tuned domain model is the default
    v = emb.embed(["Where are the police?", "Speeding on the A49", "x" * 2000])
    assert v.dtype == np.float32
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_empty_input(emb: Embedder) -> None:
    assert emb.embed([]).shape == (0, 384)


def test_output_order_follows_input_not_length_sorting(emb: Embedder) -> None:
    texts = [
        "a much longer question about the police and crime plan for rural communities",
        "101",
        "Why is nobody patrolling the town centre at night?",
    ]
    together = emb.embed(texts)
    for i, text in enumerate(texts):
        alone = emb.embed([text])[0]
        # int8 activations are quantised per batch, so vectors move a little with the batch
        assert float(alone @ together[i]) > 0.98


@pytest.mark.parametrize(
    ("question", "paraphrase", "unrelated"),
    [
        (
            "What is being done about drug dealing in the park?",
            "Dealers sell drugs openly in the park every evening, what are the police doing?",
            "How much does the new police headquarters cost?",
        ),
        (
            "Speeding on the A49 is out of control, when will there be speed checks?",
            "When will the police do speed enforcement on the A49?",
            "Why does nobody ring victims back after they report a crime?",
        ),
        (
            "How long does it take to get through on 101?",
            "Why are the waits on the non-emergency 101 number so long?",
            "Will the PCC fund more PCSOs for rural villages?",
        ),
        (
            "why do I never see an officer in my town?",
            "Why are there no police on patrol in my town?",
            "What is the budget for road safety cameras?",
        ),
    ],
)
def test_paraphrases_are_closer_than_unrelated_questions(
    emb: Embedder, question: str, paraphrase: str, unrelated: str
) -> None:
    assert cos(emb, question, paraphrase) > cos(emb, question, unrelated) + 0.2


def test_l2_normalise_keeps_zero_rows() -> None:
    out = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_tampered_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(embedding, "packaged_minilm_path", lambda: fake)
    with pytest.raises(ModelIntegrityError):
        embedding.load_minilm_int8(convert=False)
    with pytest.raises(ModelIntegrityError):
        prepare_minilm_int8(tmp_path / "cache")


def test_a_tampered_domain_model_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model.onnx"
    data = bytearray(DOMAIN_MODEL_PATH.read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        load_domain_model(path=copy)
    with pytest.raises(ModelIntegrityError):
        load_domain_model(path=tmp_path / "missing.onnx")


def test_domain_model_ranks_the_same_ask_above_a_same_theme_neighbour(emb: Embedder) -> None:
    ask = "Why does nobody answer 101? I waited 40 minutes"
    same = "how long should it take to get through on the non emergency number"
    other = "why did nobody come out when I reported a burglary"  # response, another ask
    assert cos(emb, ask, same) > cos(emb, ask, other)


def test_unwritable_cache_falls_back_to_the_packaged_file(
    emb: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    converted = embedding.load_minilm_int8()
    assert converted.name == "all-MiniLM-L6-v2-dynint8"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("OPENFLOOR_MODEL_CACHE", str(blocker / "models"))
    fallback = embedding.load_minilm_int8()
    assert fallback.name == "all-MiniLM-L6-v2-int8w"
    texts = ["Where are the police?", "Speeding on the A49 is out of control"]
    same_model = np.sum(fallback.embed(texts) * converted.embed(texts), axis=1)
    assert (same_model > 0.97).all()  # the same model, before and after conversion


@pytest.fixture(scope="module")
def offline_cold_start(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A fresh process, an empty model cache and no sockets: load, convert and embed once."""
    cache = tmp_path_factory.mktemp("model-cache")
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from workers.pipeline.embedding import default_embedder, load_minilm_int8\n"
        "v = default_embedder().embed(['where are all the police?'])\n"
        "w = load_minilm_int8().embed(['where are all the police?'])\n"
        "print(v.shape, w.shape)\n"
    )
    env = {**os.environ, "OPENFLOOR_MODEL_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return cache, out.stdout.strip()


def test_loads_and_converts_with_the_network_blocked(offline_cold_start: tuple[Path, str]) -> None:
    cache, printed = offline_cold_start
    assert printed == "(1, 384) (1, 384)"  # the domain model, and the base model converted
    assert [p.suffix for p in cache.iterdir()] == [".onnx"]  # no temporary files left behind


def test_converted_model_is_reused(offline_cold_start: tuple[Path, str]) -> None:
    cache, _ = offline_cold_start
    (converted,) = cache.iterdir()
    stamp = converted.stat().st_mtime_ns
    assert prepare_minilm_int8(cache) == converted
    assert converted.stat().st_mtime_ns == stamp
