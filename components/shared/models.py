"""The sidebar's classifier and detector, each loaded on its own.

A model that cannot load here (no weights and no download, a failed download, a broken
file, a device it cannot run on) becomes an ``Unavailable``: its panel says why, names
the models of its kind whose weights are on this machine, and offers a button that
switches the sidebar's picker to one of them. The other model keeps working and its
panel stays on the page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from components.shared import cache
from components.shared.controls import PICKER_KEYS, shared_choice
from model_zoo import ModelSpec, Task, WeightsNotFoundError, get_spec, list_models
from model_zoo.device import DeviceError
from model_zoo.identity import weights_filename, weights_on_disk

log = logging.getLogger(__name__)

KIND = {Task.CLASSIFY: "classifier", Task.DETECT: "detector"}
MAX_BUTTONS = 3
"""Switch buttons under a message; every working model is named in its text."""


@dataclass(frozen=True)
class Unavailable:
    """A model that could not be loaded here, and why (in words a visitor may read)."""

    spec: ModelSpec
    reason: str
    model: None = None
    device: None = None
    note: None = None


def load(name: str, device: str) -> cache.LoadedModel | Unavailable:
    """The model from the server-wide cache, or why it cannot run here."""
    spec = get_spec(name)
    try:
        return cache.model_on(name, device)
    except (WeightsNotFoundError, DeviceError) as exc:
        return Unavailable(spec, str(exc))
    except Exception as exc:  # a damaged weights file: the library's own error
        log.exception("%s could not be loaded", name)
        return Unavailable(
            spec,
            f"its weights file '{weights_filename(spec)}' could not be read "
            f"({type(exc).__name__}); it may be damaged or from another version. Ask "
            "the server's operator to replace it.",
        )


def shared_models(choice) -> tuple[cache.LoadedModel | Unavailable, ...]:
    """The sidebar's classifier and detector, each loaded or ``Unavailable``."""
    return load(choice.classifier, choice.device), load(choice.detector, choice.device)


def each_model_ui(key: str) -> tuple[cache.LoadedModel | Unavailable, ...]:
    """The sidebar's classifier and detector, each loaded on its own, with a message
    (``unavailable_ui``) for each that cannot load here; the page decides what it can
    still do with the other. ``key``: unique on the page."""
    cls, det = shared_models(shared_choice())
    for failed in (m for m in (cls, det) if m.model is None):
        unavailable_ui(failed, key)
    return cls, det


def vocabulary_model(det: cache.LoadedModel, vocabulary: tuple[str, ...]):
    """The open-vocabulary detector looking for these classes, or ``Unavailable`` when
    its text encoder cannot run here."""
    try:
        return cache.get_vocabulary_model(det.spec.name, det.device, vocabulary)
    except WeightsNotFoundError as exc:
        return Unavailable(det.spec, f"it cannot read the classes you typed: {exc}")


def working_models(task: Task, but: str = "") -> list[ModelSpec]:
    """The models of a kind whose weights are on this machine, in the zoo's order."""
    return [s for s in list_models(task) if s.name != but and weights_on_disk(s)]


def _switch(key: str, name: str) -> None:
    st.session_state[key] = name  # before the picker is drawn on the next run


def unavailable_ui(failed: Unavailable, key: str, brief: bool = False) -> None:
    """Why the model cannot run here, the models of its kind that can, and one button
    each (up to ``MAX_BUTTONS``) to switch the sidebar to it. ``brief``: one line only
    (for the second and later images of a page). ``key``: unique on the page."""
    spec = failed.spec
    kind = KIND[spec.task]
    if brief:
        st.caption(f"No {kind} panel: {spec.title} cannot run here (see above).")
        return
    st.error(f"**{spec.title}** cannot run here: {failed.reason}")
    working = working_models(spec.task, but=spec.name)
    if not working:
        st.info(
            f"No other {kind} has its weights on this machine: ask the server's "
            "operator to install one."
        )
        return
    names = ", ".join(s.title for s in working)
    st.markdown(f"{kind.capitalize()}s that work on this machine: {names}.")
    for other in working[:MAX_BUTTONS]:
        st.button(
            f"Use {other.title}",
            key=f"{key}-use-{other.name}",
            on_click=_switch,
            args=(PICKER_KEYS[spec.task], other.name),
            icon=":material/swap_horiz:",
        )
