"""The retraining job: a new layer version when staff have made enough new decisions.

Declared in :data:`workers.periodic.PERIODIC_JOBS` (daily). Idempotent: with no new decisions
it does nothing, and training is deterministic, so the same decisions give the same weights
and the same version (the row is unique per sentence model and sha256).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from domain.runtime import Runtime, current
from workers.learning.layer import TrainOptions, train_layer
from workers.learning.pairs import derive_pairs
from workers.learning.store import latest_version, new_decisions, read_meetings, save_layer
from workers.pipeline.embedding import default_embedder

log = logging.getLogger(__name__)

#: Fewer labelled pairs of either kind than this and nothing is trained.
MIN_PAIRS = 20


def retrain(
    rt: Runtime, embedder: str, *, min_decisions: int, options: TrainOptions | None = None
) -> int | None:
    """Train and store a layer if there are ``min_decisions`` new decisions; its version."""
    with rt.db.transaction() as session:
        last = latest_version(session, embedder)
        since = last.decisions_upto if last is not None else 0
        count, upto = new_decisions(session, since)
        if count < min_decisions:
            log.info("learned layer: %d new decisions (need %d)", count, min_decisions)
            return None
        meetings = read_meetings(session, upto)
    pairs = derive_pairs(meetings)
    if pairs.positives < MIN_PAIRS or pairs.negatives < MIN_PAIRS:
        log.info("learned layer: %d/%d pairs, too few", pairs.positives, pairs.negatives)
        return None
    layer, report = train_layer(pairs, options)
    try:
        with rt.db.transaction() as session:
            version = save_layer(session, embedder, layer, upto, report)
    except IntegrityError:  # another worker stored the same weights meanwhile
        with rt.db.transaction() as session:
            version = save_layer(session, embedder, layer, upto, report)
    log.info(
        "learned layer %d: %d meetings, %d pairs, loss %.4f -> %.4f", version, len(meetings),
        report.pairs, report.loss_before, report.loss_after,
    )  # fmt: skip
    return version


def retrain_layer() -> int | None:
    """RQ job: retrain the learned layer for the worker's sentence model (see :func:`retrain`)."""
    rt = current()
    return retrain(
        rt, default_embedder().name, min_decisions=rt.settings.learned_layer_min_decisions
    )
