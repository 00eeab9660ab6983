"""Models: what is in the model zoo, what is on this machine, and where weights go."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.router import require_router
from model_zoo import list_models
from model_zoo.device import available_devices
from model_zoo.figures import published_figures
from model_zoo.registry import weights_on_disk
from model_zoo.weights import ENV_VAR, weights_dirs

require_router()

st.title("Model zoo")
st.caption(f"Devices on this machine: {', '.join(available_devices())}.")


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


rows = [
    {
        "name": spec.name,
        "model": spec.title,
        "task": spec.task.value,
        "library": spec.family.value,
        "NMS": "none (end-to-end)" if spec.nms_free else "",
        **_published(spec),
        "input": f"{spec.input_size} px",
        "classes": spec.categories,
        "devices": ", ".join(spec.devices) if spec.devices else "any",
        "on this machine": "yes"
        if weights_on_disk(spec)
        else ("downloads when online" if spec.downloadable else "missing"),
        "licence": spec.licence,
        "note": spec.note,
    }
    for spec in list_models()
]
st.dataframe(
    pd.DataFrame(rows),
    hide_index=True,
    width="stretch",
    column_config={
        "published accuracy (%)": st.column_config.NumberColumn(format="%.1f"),
        "params (M)": st.column_config.NumberColumn(format="%.1f"),
        "GFLOPs": st.column_config.NumberColumn(format="%.1f"),
    },
)
st.caption(
    "Published figures are the publisher's, not measured here: COCO val2017 box AP "
    "(mAP 50-95) for detectors, ImageNet top-1 for classifiers; parameters and GFLOPs at "
    "each model's input size. torchvision's come from the weights' own metadata, "
    "Ultralytics' from its documentation tables. The Learn page times the chosen models "
    "on this machine; the Evaluate page measures AP on a subset."
)
st.markdown(
    "**Adding weights.** Put an Ultralytics-loadable detector (`.pt`, `.onnx`, or an "
    "`*_openvino_model/` folder) or a torchvision weights file in one of these folders; "
    f"it appears in the sidebar pickers on the next run (folders named by `${ENV_VAR}` "
    "come first):"
)
st.code("\n".join(str(d) for d in weights_dirs()), language=None)
st.caption(
    "Weights are only ever read from these folders, never from a browser upload: a `.pt` "
    "file is a pickle, and unpickling runs code."
)
