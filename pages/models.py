"""Models: what is in the model zoo, what is on this machine, and where weights go."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.router import require_router
from model_zoo import list_models
from model_zoo.device import available_devices
from model_zoo.registry import weights_on_disk
from model_zoo.weights import ENV_VAR, weights_dirs

require_router()

st.title("Model zoo")
st.caption(f"Devices on this machine: {', '.join(available_devices())}.")
rows = [
    {
        "name": spec.name,
        "model": spec.title,
        "task": spec.task.value,
        "library": spec.family,
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
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
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
