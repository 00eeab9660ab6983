"""Detection and classification metrics on a Dataset and stored predictions: COCO's
evaluate -> accumulate (``cocoeval``) and its views (``coco``, ``breakdown``,
``per_image``, ``explorer``, ``matching``, ``error_types``), PASCAL VOC (``voc``, ``ap``),
the classifier as a tagger (``tagging``, ``tagging_images``), two detectors image by image
(``two_models``) and why tools print other numbers (``disagreement``)."""
