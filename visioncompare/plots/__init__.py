"""Data in, Plotly figure out: one module per domain (``evaluation``, ``errors``,
``learn``, ``video``). No Streamlit, no I/O.

Pure library: imports the other pure packages only; never streamlit, torch, torchvision
or ultralytics.
"""
