"""Evaluation, from stored predictions to every number: the metrics (``metrics/``: COCO,
VOC, the threshold explorer, error types, per image, tagging, why tools differ), the
prediction runs that make and store a dataset's predictions once (``prediction_runs``),
any tool's COCO results files (``results_file``), the store itself (``store``: SQLite
or PostgreSQL), the error browser's data, and each browser session's own upload folder
and store (``session_files``, which sits above the store because a session's uploads open
a store of their own).

Pure library: imports ``visioncompare.kernel`` and ``visioncompare.datasets``; never
streamlit, torch, torchvision or ultralytics (models arrive as objects that follow
``model_zoo.protocol``).
"""
