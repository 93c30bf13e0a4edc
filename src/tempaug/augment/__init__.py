"""The paper's augmentations (Kim et al., ECCV-W 2020, Section 3).

Layout ``(..., T, C, H, W)``; every random draw can be driven by a ``torch.Generator``.
"""
