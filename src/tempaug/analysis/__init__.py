"""Analysis of trained models and their runs (paper Section 4).

Submodules are imported on demand (none is imported here, so ``import tempaug.analysis`` stays
light):

* :mod:`tempaug.analysis.tables` — Tables 2–8 from the runs, our numbers beside the paper's; it
  gathers :mod:`~tempaug.analysis.table_rows` (the paper's rows and labels),
  :mod:`~tempaug.analysis.run_records` (reading runs, statistics over seeds),
  :mod:`~tempaug.analysis.scores` (per-video scores, the ensemble),
  :mod:`~tempaug.analysis.table_builders` (Tables 2–8) and :mod:`~tempaug.analysis.rendering`
  (Markdown / CSV, captions);
* :mod:`tempaug.analysis.reference` — the paper's numbers (``results/paper_reference.csv``);
* :mod:`tempaug.analysis.gallery` — Figs. 3 and 4, learning curves, figure helpers;
* :mod:`tempaug.analysis.run_selection` — which Table 2–5 runs the CAM and robustness analyses
  read, and their checkpoints;
* Sec. 4.6 (Figs. 5–6) and a localization score: :mod:`~tempaug.analysis.cam`,
  :mod:`~tempaug.analysis.overlay`, :mod:`~tempaug.analysis.cam_sources` (the clips drawn),
  :mod:`~tempaug.analysis.cam_figures` (the figures' columns),
  :mod:`~tempaug.analysis.localization` and :mod:`~tempaug.analysis.localization_table`;
* robustness to temporal perturbations (beyond the paper):
  :mod:`~tempaug.analysis.perturbations`, :mod:`~tempaug.analysis.robustness`,
  :mod:`~tempaug.analysis.robustness_metrics`, :mod:`~tempaug.analysis.robustness_report`.

The pipeline glue (``params.yaml``, data preparation, the run matrix) is :mod:`tempaug.pipeline`.
"""
