"""Models: what is in the model zoo, what is on this machine, and where weights go."""

from __future__ import annotations

import streamlit as st

from components.models.views import (
    adding_weights_section,
    evaluated_ap_section,
    latency_ui,
    zoo_table_section,
)
from components.shared.controls import shared_choice
from components.shared.router import require_router
from model_zoo.device import available_devices

require_router()

st.caption(f"Devices on this machine: {', '.join(available_devices())}.")
shared = shared_choice()
zoo_table_section(shared.device)
latency_ui([shared.classifier, shared.detector])
evaluated_ap_section(shared.device)
adding_weights_section()
