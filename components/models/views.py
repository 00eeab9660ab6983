"""The Models page's renderers: the zoo with its published and measured figures."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

from components.shared import cache
from components.shared.store_status import show_unreachable
from components.shared.tables import show_table
from components.shared.titles import BUNDLED_TITLES
from model_zoo import Task, list_models
from model_zoo.device import device_for
from model_zoo.figures import published_figures
from model_zoo.identity import weights_on_disk
from model_zoo.operator_settings import (
    ALLOW_DOWNLOADS,
    Availability,
    availability,
    show_server_paths,
)
from model_zoo.weights import ENV_VAR, weights_dirs
from visioncompare.datasets.registry import BUNDLED
from visioncompare.evaluation.prediction_runs import DetectSettings, detection_key
from visioncompare.evaluation.store import StoreUnavailable
from visioncompare.kernel.sample_images import SAMPLE_DIR
from visioncompare.services.evaluation_run import is_stored, model_identity, runs_dir

TIMING_IMAGE = "bus.jpg"
"""The bundled sample every model is timed on, so the latencies compare."""
TIMED = "models_timed"
"""Session state: the models whose latency this visitor asked to measure."""


def _published(spec) -> dict:
    figures = published_figures(spec)
    if figures is None:
        return {"published (%)": None, "params (M)": None, "GFLOPs": None}
    return {
        "published (%)": figures.accuracy,
        "params (M)": figures.params_m,
        "GFLOPs": figures.gflops,
    }


def _published_source(spec) -> str:
    figures = published_figures(spec)
    return f"{figures.metric}: {figures.source}" if figures is not None else "–"


def _on_this_machine(spec) -> str:
    found = availability(weights_on_disk(spec), spec.downloadable)
    return "yes" if found is Availability.INSTALLED else found.value


def _timing_image():
    path = Path(SAMPLE_DIR) / TIMING_IMAGE
    return cache.digest(path.read_bytes()), cache.image_array(str(path))


def _measured_latency(device: str) -> dict[str, tuple[str, float]]:
    """model name -> (device, median latency in ms) for the models timed so far (each
    measured once per server, then read from the cache)."""
    digest, image = _timing_image()
    measured = {}
    for name in st.session_state.get(TIMED, []):
        spec = next(s for s in list_models() if s.name == name)
        on, _note = device_for(device, spec.devices)
        measured[name] = (on, cache.latency(name, on, digest, image))
    return measured


ZOO_HELP = {
    "published (%)": "The publisher's figure: COCO val2017 box AP (mAP 50-95) for a "
    "detector, ImageNet top-1 accuracy for a classifier. n/a: none published.",
    "latency here (ms)": "Measured on this machine when you ask for it (below): the "
    "median of 5 runs of the whole predict call. n/a: not timed yet.",
    "params (M)": "Millions of parameters, as published.",
    "GFLOPs": "Billions of floating-point operations per image at its input size.",
    "on this machine": "yes: its weights are here. Otherwise how they would arrive.",
}
"""Tooltips of the zoo table's columns."""


def zoo_table_section(device: str) -> None:
    """Every registered model: its published figure next to the latency measured here,
    in a table that fits the page; the rest of each model's card in an expander."""
    latency = _measured_latency(device)
    specs = list_models()
    rows = [
        {
            "model": spec.title,
            "task": spec.task.value,
            **_published(spec),
            "latency here (ms)": latency.get(spec.name, ("", math.nan))[1],
            "timed on": latency.get(spec.name, ("–", math.nan))[0],
            "on this machine": _on_this_machine(spec),
        }
        for spec in specs
    ]
    frame = pd.DataFrame(rows)
    # Published accuracy and the latency measured here side by side, at the left.
    frame = frame[["model", "task", "published (%)", "latency here (ms)", "timed on",
                   "params (M)", "GFLOPs", "on this machine"]]  # fmt: skip
    show_table(
        frame, key="models_zoo", max_rows=12, help=ZOO_HELP,
        kinds={"published (%)": "percent", "latency here (ms)": "ms"},
    )  # fmt: skip
    st.caption(
        "Published figures are the publisher's, not measured here: COCO val2017 box AP "
        "(mAP 50-95) for detectors, ImageNet top-1 for classifiers; parameters and "
        "GFLOPs at each model's input size. torchvision's come from the weights' own "
        "metadata, Ultralytics' from its documentation tables. “latency here” is "
        "measured on this machine when you ask for it, below; n/a until then."
    )
    if any(r["on this machine"] == Availability.NOT_INSTALLED.value for r in rows):
        st.info(
            "Models marked “not installed” need their weights downloaded, which this "
            "server does not do for visitors: ask its operator to install them."
        )
    with st.expander("Each model's library, input, classes, devices, licence and notes"):
        st.table(
            pd.DataFrame(
                [
                    {
                        "model": spec.title,
                        "library": spec.family.value
                        + (" (NMS-free)" if spec.nms_free else ""),
                        "input (px)": spec.input_size,
                        "classes": spec.categories,
                        "devices": ", ".join(spec.devices) if spec.devices else "any",
                        "licence": spec.licence,
                        "published figure": _published_source(spec),
                        "note": spec.note or "–",
                    }
                    for spec in specs
                ]
            ).set_index("model")
        )


def latency_ui(default: list[str]) -> None:
    """Pick installed models and measure their latency here (the zoo table shows it)."""
    titles = {s.name: s.title for s in list_models() if weights_on_disk(s)}
    picked = st.multiselect(
        "Models to time on this machine (installed ones)",
        list(titles),
        default=[n for n in default if n in titles],
        format_func=titles.get,
        key="models_time_pick",
    )
    if st.button("Measure latency here", key="models_time", disabled=not picked):
        timed = st.session_state.setdefault(TIMED, [])
        timed.extend(n for n in picked if n not in timed)
        st.rerun()
    st.caption(
        f"Median of 5 runs of the whole predict call on {TIMING_IMAGE}, after one "
        "warm-up, each model alone; measured once per server and model, then reused."
    )


def _stored_evaluations(device: str) -> list[dict]:
    store = cache.prediction_store(str(runs_dir()))
    rows = []
    for dataset_name in BUNDLED:
        dataset = cache.load_dataset(dataset_name)
        for spec in list_models(Task.DETECT):
            identity = (
                model_identity(spec.name, device) if weights_on_disk(spec) else None
            )
            if identity is None or not is_stored(
                dataset, spec.name, None, store, device
            ):
                continue
            key = detection_key(identity, dataset, DetectSettings())
            ap, ap50, images = cache.stored_evaluation_ap(
                dataset_name, spec.name, device, key
            )
            rows.append(
                {
                    "subset": BUNDLED_TITLES.get(dataset_name, dataset_name),
                    "model": spec.title,
                    "images": images,
                    "mAP50-95 here (%)": 100 * ap,
                    "mAP50 here (%)": 100 * ap50,
                    "published (%)": _published(spec)["published (%)"],
                }
            )
    return rows


def evaluated_ap_section(device: str) -> None:
    """AP per bundled subset and detector, read from the Evaluate page's stored runs."""
    st.subheader("Measured by the Evaluate page")
    try:
        rows = _stored_evaluations(device)
    except StoreUnavailable as exc:
        show_unreachable(exc, "The APs it stored show once it is back.", warning=True)
        return
    if not rows:
        st.info(
            "No evaluation is stored yet: on the Evaluate page, pick a bundled subset "
            "and press Evaluate; its AP appears here."
        )
        return
    show_table(
        pd.DataFrame(rows), key="models_measured", kinds={"published (%)": "percent"}
    )
    st.caption(
        "COCO mAP on the subset named, from the predictions the Evaluate page stored "
        "(confidence 0.001, up to 300 boxes per image): a few dozen images, so expect "
        "it to differ from the published figure on all 5,000 COCO val2017 images. "
        + " ".join(f"{BUNDLED_TITLES.get(n, n)}: {d}." for n, d in BUNDLED.items())
    )


def adding_weights_section() -> None:
    """Where weights go; the folders' server paths only for the operator's setting."""
    st.markdown(
        "**Adding weights.** Put an Ultralytics-loadable detector (`.pt`, `.onnx`, or "
        "an `*_openvino_model/` folder) or a torchvision weights file in a weights "
        "folder; it appears in the sidebar pickers on the next run (folders named by "
        f"`${ENV_VAR}` come first)"
        + (
            ":"
            if show_server_paths()
            else ". That is the operator's job on this server."
        )
    )
    if show_server_paths():
        st.code("\n".join(str(d) for d in weights_dirs()), language=None)
    st.caption(
        "Weights are only ever read from these folders, never from a browser upload: a "
        "`.pt` file is a pickle, and unpickling runs code. Visitors never trigger a "
        f"weights download unless the operator sets `{ALLOW_DOWNLOADS}=1`."
    )
