"""The Learn page's sections, one renderer each: tasks, labels, metrics and cost
(``sections``), inside the models (``model_sections``, ``stages``), and what training
labels look like (``training_labels``, ``label_formats``)."""
