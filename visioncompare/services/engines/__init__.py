"""Engines: what makes a dataset's predictions and puts them in the store.

Every engine implements one small interface (``protocol.Engine``): predict this dataset
with this model into the store, with progress and stop, and return what it stored. The
local engine runs the model in this process (``local``); the Ray engine runs it on a Ray
Data actor pool (``ray``). Both store under the same keys, so either reads what the other
made, and the report reads the store without knowing which engine filled it.

A new engine is one module here and one entry in ``ENGINES``.
"""

from __future__ import annotations

from collections.abc import Callable

from visioncompare.services.engines.local import LocalEngine
from visioncompare.services.engines.protocol import Engine, RunRequest
from visioncompare.services.engines.ray import RayEngine, RayOptions

__all__ = [
    "ENGINES",
    "Engine",
    "LocalEngine",
    "RayEngine",
    "RayOptions",
    "RunRequest",
    "make_engine",
]

ENGINES: dict[str, Callable[..., Engine]] = {
    "local": lambda device, get_model, ray_options: LocalEngine(device, get_model),
    "ray": lambda device, get_model, ray_options: RayEngine(
        ray_options or RayOptions(), get_model
    ),
}
"""Engine name (the CLI's ``--engine``, the page's choice) -> (device, get_model,
ray_options) -> engine."""


def make_engine(
    name: str,
    device: str = "auto",
    get_model: Callable[[str], object] | None = None,
    ray_options: RayOptions | None = None,
) -> Engine:
    """The engine called ``name``.

    Args:
        name: ``local`` or ``ray``.
        device: the local engine's device (``auto``: cuda, then mps, then cpu); the Ray
            engine's device follows its options (``cuda`` when actors reserve GPUs).
        get_model: model name -> loaded model (the page's cached loader); None loads
            from the model zoo.
        ray_options: the Ray cluster address and pool shape.

    Raises:
        ValueError: an unknown engine name.
    """
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ValueError(
            f"unknown engine {name!r}: {' or '.join(ENGINES)}"
        ) from None
    return factory(device, get_model, ray_options)
