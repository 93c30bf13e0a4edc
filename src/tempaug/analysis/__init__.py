"""Analysis of trained models and of the reproduction pipeline (paper Section 4).

Submodules are imported on demand (none is imported here, so ``import tempaug.analysis`` stays
light):

* :mod:`tempaug.analysis.pipeline` — ``params.yaml`` profiles, data preparation, the run matrix
  of Tables 2–7 and one training run (used by the notebooks that ``dvc.yaml`` chains);
* :mod:`tempaug.analysis.tables` — Tables 2–8 from the runs, our numbers beside the paper's;
* :mod:`tempaug.analysis.reference` — the paper's numbers (``results/paper_reference.csv``);
* :mod:`tempaug.analysis.gallery` — Figs. 3 and 4, learning curves, figure helpers;
* the class-activation-map, localization and robustness modules (Section 4.6 and beyond).
"""
