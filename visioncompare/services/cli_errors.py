"""How the command line reports an expected failure: one message on stderr and exit
status 2, never a traceback; an outage of the predictions store says that what was
stored is kept."""

from __future__ import annotations

import sys


def expected_errors() -> tuple[type[Exception], ...]:
    """The failures a command reports as a message: a bad dataset, model, file or
    option, missing weights, the store or Ray unavailable."""
    from model_zoo import WeightsNotFoundError
    from visioncompare.datasets import DatasetError
    from visioncompare.evaluation.store import StoreError
    from visioncompare.services.engines.ray import RayUnavailable

    return (RayUnavailable, StoreError, KeyError, DatasetError, WeightsNotFoundError,
            ValueError, FileNotFoundError)  # fmt: skip


def report_failure(exc: Exception, goes_on: str = "it goes on from there") -> int:
    """Print ``exc``'s message on stderr (a store outage adds that a rerun continues:
    ``goes_on`` says how) and return the exit status, 2."""
    from visioncompare.evaluation.store import StoreUnavailable

    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    if isinstance(exc, StoreUnavailable):  # an outage: what was stored is kept
        message += (
            "\nEvery image predicted before it went is stored: run the same command "
            f"again once the store is back, and {goes_on}."
        )
    print(f"error: {message}", file=sys.stderr)
    return 2
