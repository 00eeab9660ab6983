"""Dataset loaders: COCO JSON, PASCAL VOC XML and YOLO txt -> one ``Dataset`` of ``Sample``s."""

from core.datasets.types import Dataset, DatasetError, Sample

__all__ = ["Dataset", "DatasetError", "Sample"]
