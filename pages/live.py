"""Live: the viewer's own camera through the detector and the classifier, in real time."""

from __future__ import annotations

import time

import streamlit as st

from components.live.controls import live_settings_ui, only_mode
from components.live.webrtc import (
    camera_streamer,
    connection_hint,
    ice_servers,
    live_readout,
    session_processor,
)
from components.shared import models
from components.shared.router import require_router

require_router()

# Each model on its own: one that cannot load here leaves the other running.
cls, det = models.each_model_ui("live")
if cls.model is None and det.model is None:
    st.stop()
classes = det.model.class_names if det.model is not None else ()
settings = live_settings_ui("live", classes, only_mode(cls, det))
processor = session_processor(det.model, cls.model)
processor.update_settings(settings)

servers, config_error = ice_servers()
if config_error:
    st.warning(config_error)
left, right = st.columns([3, 2], gap="large")
with left:
    ctx = camera_streamer(processor, servers)

state = ctx.state
if state.playing or state.signalling:
    if "live_connecting_since" not in st.session_state:  # a new stream: fresh counters
        processor.reset_counters()
        st.session_state["live_connecting_since"] = time.monotonic()
else:
    st.session_state.pop("live_connecting_since", None)

with right:
    live_readout(processor, det.device or cls.device, servers)

with st.expander("The camera does not start?"):
    st.markdown(connection_hint(servers).replace("after 15 seconds", "yet"))
    st.markdown(
        "- Allow the camera when the browser asks (the camera icon in the address bar "
        "changes the choice).\n"
        "- Another program (a video call) may hold the camera.\n"
        "- The page must be served over HTTPS, or opened as `localhost`."
    )
