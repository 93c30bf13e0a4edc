"""Class activation maps of the SlowFast models (Kim et al., Sec. 4.6, Figs. 5–6) and a
temporal-localisation score built on them (beyond the paper).

Import the module you need (none is imported here):

* :mod:`~tempaug.analysis.cam.maps` — CAMs per pathway, upsampled onto the clip's frames;
* :mod:`~tempaug.analysis.cam.overlay` — heat-map overlays and the Fig. 5/6 layout;
* :mod:`~tempaug.analysis.cam.sources` — the validation clips drawn for figures and scores;
* :mod:`~tempaug.analysis.cam.figures` — the figures' columns: mix a pair, CAMs of each model;
* :mod:`~tempaug.analysis.cam.localization` — spliced A|B clips and the localisation scores;
* :mod:`~tempaug.analysis.cam.localization_table` — the score table, its caption and checks.
"""
