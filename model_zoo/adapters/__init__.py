"""The family adapters: one class per library that loads models, each implementing the
model protocol (``model_zoo.protocol``) and returning the kernel's types.

- ``base``: what every adapter shares (``Adapter``, ``DetectorAdapter``): the loaded
  model's state, the one load sequence, the batches ``predict`` runs in and the stage
  timer. A new family is one subclass of it plus its registry entries.
- ``classifiers``: torchvision classifiers, fp32 and INT8 quantized (``Classifier``).
- ``torchvision_detectors``: torchvision's COCO detectors (``TorchvisionDetector``).
- ``ultralytics_detectors``: Ultralytics detectors in any format it loads, open-vocabulary
  ones included (``Detector``).
- ``torchvision_common``: what the two torchvision adapters share (weights enum, state
  dict, transforms, three timed stages).

``model_zoo.ADAPTERS`` names the class that loads each (task, family); a module here is
imported only when a model of its kind is loaded, so this ``__init__`` imports nothing.

May import torch, torchvision and ultralytics (after ``model_zoo._libraries``), the model
zoo's own modules below the adapters (``registry``, ``weights``, ``identity``, ``device``,
``operator_settings``, ``protocol``) and ``visioncompare.kernel``. Never the package root
``model_zoo``, the Learn page's ``stages`` and ``explain``, streamlit, or any other
VisionCompare package.
"""
