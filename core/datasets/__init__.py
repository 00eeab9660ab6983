"""Dataset loaders: COCO, PASCAL VOC, YOLO, KITTI, Cityscapes and Open Images -> one
``Dataset`` of ``Sample``s."""

from core.datasets.types import Dataset, DatasetError, Sample

__all__ = ["Dataset", "DatasetError", "Sample"]
