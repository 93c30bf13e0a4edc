"""Video recognition models (paper Section 4.1): SlowFast-50 on ``(B, T, C, H, W)`` clips."""

from tempaug.models.slowfast import (
    MODEL_BUILDERS,
    SlowFastVideoClassifier,
    build_model,
    slowfast50,
    slowfast_smoke,
)

__all__ = [
    "MODEL_BUILDERS",
    "SlowFastVideoClassifier",
    "build_model",
    "slowfast50",
    "slowfast_smoke",
]
