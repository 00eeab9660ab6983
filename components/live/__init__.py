"""The Live page: its widgets (``controls``) and the streamlit-webrtc glue between
browser frames and ``visioncompare.live`` (``webrtc``)."""
