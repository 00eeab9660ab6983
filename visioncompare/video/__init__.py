"""Video files: decoding and H.264 encoding with PyAV (``io``), the frame-by-frame
analysis through a tracker-fed detector and the classifier (``analysis``), what it says as
tables and text (``summary``) and the sample clip made from a bundled image
(``demo_clip``).

Pure library: imports ``visioncompare.kernel``; never streamlit, torch, torchvision or
ultralytics (the tracker arrives as an object from ``model_zoo.tracking``).
"""
