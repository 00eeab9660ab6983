"""The words every domain uses: the frozen result types, boxes and IoU, image decoding,
JSON read without a crash (``json_text``), drawing, tables and the text a person reads,
bundled paths and sample images, and the small concurrency and memory tools (keyed
locks, a byte-bounded cache, ``malloc_trim``).

Pure library: numpy, Pillow, pandas and OpenCV (headless) only. It imports no other
VisionCompare package, and never streamlit, torch, torchvision or ultralytics.
"""
