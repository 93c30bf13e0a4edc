"""Robustness of the Table 2–5 models to temporal perturbations (beyond the paper; tests the
argument of Kim et al., Sec. 4.6).

Import the module you need (none is imported here):

* :mod:`~tempaug.analysis.robustness.perturbations` — the perturbations and their severities;
* :mod:`~tempaug.analysis.robustness.evaluation` — per-video correctness of models under them;
* :mod:`~tempaug.analysis.robustness.metrics` — accuracy, relative drop, mCA, paired differences;
* :mod:`~tempaug.analysis.robustness.report` — the report's table, comparison and caption.
"""
