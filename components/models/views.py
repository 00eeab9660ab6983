"""The Models page's renderers: the zoo with its published and measured figures."""

from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

from components.shared import cache
from components.shared.store_status import show_unreachable
from components.shared.views import number_table
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
        return {"published accuracy (%)": None, "metric": "", "params (M)": None,
                "GFLOPs": None, "figures from": ""}  # fmt: skip
    return {
        "published accuracy (%)": figures.accuracy,
        "metric": figures.metric,
        "params (M)": figures.params_m,
        "GFLOPs": figures.gflops,
        "figures from": figures.source,
    }


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


def zoo_table_section(device: str) -> None:
    """Every registered model: published figures next to the latency measured here."""
    latency = _measured_latency(device)
    rows = [
        {
            "name": spec.name,
            "model": spec.title,
            "task": spec.task.value,
            "library": spec.family.value,
            "NMS": "none (end-to-end)" if spec.nms_free else "",
            **_published(spec),
            "latency here (ms)": latency.get(spec.name, ("", math.nan))[1],
            "timed on": latency.get(spec.name, ("", math.nan))[0],
            "input": f"{spec.input_size} px",
            "classes": spec.categories,
            "devices": ", ".join(spec.devices) if spec.devices else "any",
            "on this machine": _on_this_machine(spec),
            "licence": spec.licence,
            "note": spec.note,
        }
        for spec in list_models()
    ]
    number_table(rows, {"published accuracy (%)": "%.1f", "params (M)": "%.1f",
                        "GFLOPs": "%.1f", "latency here (ms)": "%.1f"})  # fmt: skip
    st.caption(
        "Published figures are the publisher's, not measured here: COCO val2017 box AP "
        "(mAP 50-95) for detectors, ImageNet top-1 for classifiers; parameters and "
        "GFLOPs at each model's input size. torchvision's come from the weights' own "
        "metadata, Ultralytics' from its documentation tables. “latency here” is "
        "measured on this machine when you ask for it, below."
    )
    if any(r["on this machine"] == Availability.NOT_INSTALLED.value for r in rows):
        st.info(
            "Models marked “not installed” need their weights downloaded, which this "
            "server does not do for visitors: ask its operator to install them."
        )


def latency_ui(default: list[str]) -> None:
    """Pick installed models and measure their latency here (the zoo table shows it)."""
    installed = [s.name for s in list_models() if weights_on_disk(s)]
    picked = st.multiselect(
        "Models to time on this machine (installed ones)",
        installed,
        default=[n for n in default if n in installed],
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
    for dataset_name, description in BUNDLED.items():
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
                    "subset": dataset_name,
                    "model": spec.name,
                    "images": images,
                    "mAP50-95 here (%)": 100 * ap,
                    "mAP50 here (%)": 100 * ap50,
                    "subset contents": description,
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
    number_table(rows, {"mAP50-95 here (%)": "%.1f", "mAP50 here (%)": "%.1f"})
    st.caption(
        "COCO mAP on the subset named, from the predictions the Evaluate page stored "
        "(confidence 0.001, up to 300 boxes per image): a few dozen images, so expect "
        "it to differ from the published figure on all 5,000 COCO val2017 images."
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
