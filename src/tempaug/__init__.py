"""tempaug — temporal data augmentation for video recognition.

A replication of Kim et al., *Learning Temporally Invariant and Localizable Features via Data
Augmentation for Video Recognition*, ECCV Workshops 2020 (arXiv:2008.05721).

Subpackages (data flows one way, nothing lower imports anything higher):
``augment`` → ``data`` → ``models`` → ``train`` → ``analysis``.
"""

__version__ = "0.1.0"
