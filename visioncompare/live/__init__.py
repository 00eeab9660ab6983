"""The live camera without the browser glue: the newest-frame processor that runs the
classifier and the detector on camera frames (``processor``) and the STUN/TURN servers
from the operator's environment (``rtc_config``).

Pure library: imports ``visioncompare.kernel`` and ``visioncompare.robustness`` (a
frame corrupted before the models see it); never streamlit, torch, torchvision or
ultralytics (models arrive as objects that follow ``model_zoo.protocol``).
"""
