"""What the Learn page computes and says, as plain data from the real models' outputs:
the lessons (labels, AP step by step, crops, cost), two-stage vs one-stage (``stages``),
the summaries in words, what training labels look like in each format
(``training_labels``) and non-maximum suppression replayed box by box (``nms_replay``).

Pure library: imports ``visioncompare.kernel``, ``visioncompare.datasets`` and
``visioncompare.evaluation``; never streamlit, torch, torchvision or ultralytics.
"""
