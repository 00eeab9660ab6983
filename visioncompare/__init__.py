"""VisionCompare: image classification and object detection, side by side.

The installable package. Its subpackages are domains, in two layers:

- ``services``: the command line, the evaluation report, the engines (local and Ray) and
  the video path. They may use ``model_zoo``.
- the pure library, below ``model_zoo``: ``kernel`` (types, boxes, images, drawing,
  tables), ``datasets``, ``evaluation``, ``video``, ``live``, ``learn`` and ``plots``.
  numpy, Pillow, pandas, Plotly and PyAV only: never streamlit, torch, torchvision or
  ultralytics.

The app (``app.py``, ``pages/``, ``components/``) sits above the services and runs from a
checkout. The layers are an import-linter contract (``.importlinter``), checked in CI.
"""
