"""Notebook 02's JSON: the 3T/1P source model's training and its held-out predictions."""
from __future__ import annotations

from typing import Any

from secretlab.stats import finite_or_none


def report(trained: Any, rows: Any, by_k: Any, n_train: int, success_share: float | None,
           train_or_load_s: float) -> dict[str, Any]:
    """Training config and history, the best epoch's validation metrics, held-out ±1 accuracy, the confusion
    matrix and the predictions by number of activations (``by_k``: :func:`secretlab.credit.sign_by_activations`)."""
    h = trained.history
    best = h[h["best"]].iloc[0] if h["best"].any() else h.iloc[-1]
    pos, neg = rows.sign > 0, rows.sign < 0
    return {
        "scenario": {"size": 8, "n_triggers": 3, "n_prizes": 1},
        "n_train_trajectories": int(n_train),
        "success_share": success_share,
        "warm_start_from": trained.warm_start_from,
        "train_config": {k: v for k, v in trained.train_config.__dict__.items() if k != "class_weights"},
        "epochs": int(len(h)), "best_epoch": int(best["epoch"]),
        "train_or_load_seconds": round(train_or_load_s, 1),
        "val_loss": finite_or_none(best["val_loss"]),
        "val_precision_pos": finite_or_none(best["precision_pos"]), "val_recall_pos": finite_or_none(best["recall_pos"]),
        "val_precision_neg": finite_or_none(best["precision_neg"]), "val_recall_neg": finite_or_none(best["recall_neg"]),
        "heldout_positive_accuracy": float(rows.correct[pos].mean()) if pos.any() else None,
        "heldout_negative_accuracy": float(rows.correct[neg].mean()) if neg.any() else None,
        "confusion": trained.confusion.tolist(),
        "paper_comparison": [
            {"quantity": "reward model", "paper": "1 layer, 1 head, conv 32, dense 128",
             "ours": "1 layer, 1 head, conv 32, dense 128", "note": "App. A.1 architecture and class weights"},
            {"quantity": "share of held-out +1 rewards predicted correctly (8x8 3T/1P)", "paper": None,
             "ours": float(rows.correct[pos].mean()) if pos.any() else "no +1 in held-out data",
             "note": "the paper reports no prediction accuracy"},
        ],
        "sign_by_activations": {int(k): {c: finite_or_none(v) if isinstance(v, float) else int(v) for c, v in r.items()}
                                for k, r in by_k.iterrows()},
        "tables": {"predictions by number of activations (held-out)": [
                       {"k": int(k), **{c: (round(float(v), 3) if isinstance(v, float) else int(v))
                                        for c, v in r.items()}} for k, r in by_k.iterrows()],
                   "training history": [{k: (finite_or_none(v) if isinstance(v, float) else v) for k, v in r.items()}
                                        for r in h.round(4).to_dict("records")]},
    }
