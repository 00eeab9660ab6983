"""Published figures of each registered model: accuracy, parameters, GFLOPs.

Ultralytics figures travel in the spec (``ModelSpec.published``, from the publisher's
table, its source named). torchvision's come from the weights' own metadata
(``weights.meta``: ``_metrics``, ``num_params``, ``_ops``), read here rather than retyped.
"""

from __future__ import annotations

from functools import lru_cache

from model_zoo.registry import ModelSpec, PublishedFigures

_METRICS = (
    ("COCO-val2017", "box_map", "COCO box AP"),
    ("ImageNet-1K", "acc@1", "ImageNet top-1"),
)


@lru_cache(maxsize=128)
def published_figures(spec: ModelSpec) -> PublishedFigures | None:
    """The publisher's figures for a model (None: none are published, e.g. your weights).

    For torchvision weights: the box AP or top-1 in ``meta["_metrics"]``, ``num_params``
    and ``_ops`` (torchvision's GFLOPS at the weights' own input size).
    """
    if spec.published is not None:
        return spec.published
    if not spec.family.is_torchvision or not spec.weights_enum:
        return None
    from torchvision.models import get_weight

    meta = get_weight(spec.weights_enum).meta
    metric, value = "", None
    for dataset, key, label in _METRICS:
        found = meta.get("_metrics", {}).get(dataset, {}).get(key)
        if found is not None:
            metric, value = label, float(found)
            break
    params = meta.get("num_params")
    ops = meta.get("_ops")
    return PublishedFigures(
        metric,
        value,
        params / 1e6 if params else None,
        float(ops) if ops is not None else None,
        f"torchvision weights metadata ({spec.weights_enum})",
    )
