"""Datasets in: the readers (COCO, PASCAL VOC, YOLO, KITTI, Cityscapes, Open Images) that
turn a folder or file into one ``Dataset`` of ``Sample``s, the bundled subsets
(``registry``), and the gates in front of them: archives unpacked without trusting them
(``archives``) and server folders confined to the operator's roots (``roots``).

Pure library: imports ``visioncompare.kernel`` only; never streamlit, torch, torchvision
or ultralytics.
"""

from visioncompare.datasets.types import Dataset, DatasetError, Sample

__all__ = ["Dataset", "DatasetError", "Sample"]
