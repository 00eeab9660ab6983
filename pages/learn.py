"""Learn: what separates classification from detection, shown live with the real models.

The page is the list of its sections; each renderer lives in ``components/learn_*.py`` and
computes through ``visioncompare.learn``.
"""

from __future__ import annotations

from components.learn.model_sections import (
    detect_then_classify_section,
    heads_section,
    nms_section,
    saliency_section,
)
from components.learn.robustness import robustness_section
from components.learn.sections import (
    bundled_coco_ui,
    complexity_section,
    evaluation_section,
    goal_section,
    learn_inputs_ui,
    single_vs_multi_label_section,
    task_and_output_section,
)
from components.learn.stages import stages_section
from components.learn.training_labels import training_labels_section
from components.shared.router import require_router

require_router()

inputs = learn_inputs_ui()

task_and_output_section(inputs)  # 1
goal_section(inputs)  # 2
single_vs_multi_label_section(inputs)  # 3
coco = bundled_coco_ui()
sample = training_labels_section(coco)  # 4
evaluation_section(inputs, coco, sample)  # 5
complexity_section(inputs)  # 6
heads_section(inputs)  # 7
stages_section(inputs)  # 7, continued: two-stage vs one-stage
saliency_section(inputs)  # 8
detect_then_classify_section(inputs)  # 9
nms_section(inputs)  # 10
robustness_section(inputs)  # 11
