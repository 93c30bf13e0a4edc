"""Analysis of trained models and their runs (Kim et al., Sec. 4), by what a reader looks for.

Nothing is imported here, so ``import tempaug.analysis`` stays light:

* :mod:`tempaug.analysis.tables` — Tables 2–8 from the runs, beside the paper's numbers;
* :mod:`tempaug.analysis.cam` — CAM figures (Figs. 5–6) and the temporal-localisation score;
* :mod:`tempaug.analysis.robustness` — robustness to temporal perturbations (beyond the paper);
* :mod:`tempaug.analysis.statistics` — the one hierarchical, paired bootstrap behind every
  interval and test, and Holm's correction;
* :mod:`tempaug.analysis.figures` — the frame galleries: Figs. 3–4 and the generated dataset's
  nuisances (the tables' plots are in :mod:`tempaug.analysis.tables`);
* :mod:`tempaug.analysis.run_selection` — which Table 2–5 runs the CAM and robustness analyses
  read, their checkpoints and models.

The pipeline glue (``params.yaml``, data preparation, the run matrix) is :mod:`tempaug.pipeline`.
"""
