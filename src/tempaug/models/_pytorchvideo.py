"""The pytorchvideo pieces tempaug uses, imported in one place with its import-time warning off.

fvcore (imported by ``pytorchvideo.models``) calls the deprecated ``torch.jit.script`` at import,
which emits a ``FutureWarning`` on every fresh interpreter; only that warning is silenced. Only
``pytorchvideo.models`` is used (its ``transforms`` module does not import with current
torchvision).
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    from pytorchvideo.models.head import ResNetBasicHead
    from pytorchvideo.models.slowfast import PoolConcatPathway, create_slowfast

__all__ = ["PoolConcatPathway", "ResNetBasicHead", "create_slowfast"]
