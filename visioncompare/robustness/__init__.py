"""The robustness lab without the app: the 15 ImageNet-C corruptions at five severities
(Hendrycks & Dietterich, ICLR 2019) through the ``imagecorruptions`` package with a
deterministic seed per image and cell (``corruptions``), the grid of corruptions and
severities and its summary, mPC and rPC as in Michaelis et al. 2019 (``grid``), how a
classification and a detector's boxes changed from the clean image (``changes``), and
which of the two breaks first on one image (``breaking``).

Pure library: imports ``visioncompare.kernel`` only; never streamlit, torch,
torchvision or ultralytics. The corruption package (scikit-image, SciPy, Numba; over a
second to import) is imported inside the functions that corrupt, never at import time.
"""

from visioncompare.robustness.corruptions import (
    CORRUPTIONS,
    SEVERITIES,
    Corruption,
    CorruptionError,
    CorruptionUnavailable,
    corrupt,
    corruption_title,
)

__all__ = [
    "CORRUPTIONS",
    "SEVERITIES",
    "Corruption",
    "CorruptionError",
    "CorruptionUnavailable",
    "corrupt",
    "corruption_title",
]
