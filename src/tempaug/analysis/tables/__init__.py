"""Tables 2–8 of Kim et al. (Sec. 4.2–4.5) from the runs, our numbers beside the paper's.

This package's public API, by module (``from tempaug.analysis import tables; tables.table2(...)``):

* :mod:`~tempaug.analysis.tables.rows` — the paper's rows and labels (Tables 2–7);
* :mod:`~tempaug.analysis.tables.records` — reading run records, mean and std over seeds;
* :mod:`~tempaug.analysis.tables.scores` — per-video scores, the ensemble (Sec. 4.5);
* :mod:`~tempaug.analysis.tables.builders` — assembling Tables 2–8; intervals and paired tests
  come from :mod:`tempaug.analysis.statistics`;
* :mod:`~tempaug.analysis.tables.rendering` — Markdown / CSV and captions;
* :mod:`~tempaug.analysis.tables.plots` — the tables' figures;
* :mod:`~tempaug.analysis.tables.reference` — the paper's numbers
  (``results/paper_reference.csv``).
"""

from __future__ import annotations

from tempaug.analysis.tables.builders import (
    ablation_table,
    randaug_grid_table,
    table2,
    table6,
    table7,
    table8,
)
from tempaug.analysis.tables.plots import delta_vs_baseline, replicate_curves
from tempaug.analysis.tables.records import RUN_COLUMNS, MissingRunsError, collect_runs, summarize
from tempaug.analysis.tables.reference import (
    REFERENCE_COLUMNS,
    default_reference_path,
    load_reference,
    reference_for,
)
from tempaug.analysis.tables.rendering import (
    MARK_BASELINE,
    MARK_COUNTERPART,
    RenderedTable,
    caption,
    data_note,
    evaluation_summary,
    evidence,
    format_value,
    publish_table,
    render_grid_table,
    render_table,
    show_top5,
    write_table,
)
from tempaug.analysis.tables.rows import (
    BENCHMARKS,
    COUNTERPARTS,
    RANDAUG_MODES,
    TABLE6_ROWS,
    TABLE7_ROWS,
    TABLE_ROWS,
    recipe_labels,
    recipe_tables,
    table7_val_recipes,
)
from tempaug.analysis.tables.scores import (
    ensemble_by_seed,
    ensemble_runs,
    ensemble_scores,
    run_replicates,
    write_scores,
)

__all__ = [
    "BENCHMARKS",
    "COUNTERPARTS",
    "MARK_BASELINE",
    "MARK_COUNTERPART",
    "RANDAUG_MODES",
    "REFERENCE_COLUMNS",
    "RUN_COLUMNS",
    "TABLE6_ROWS",
    "TABLE7_ROWS",
    "TABLE_ROWS",
    "MissingRunsError",
    "RenderedTable",
    "ablation_table",
    "caption",
    "collect_runs",
    "data_note",
    "default_reference_path",
    "delta_vs_baseline",
    "ensemble_by_seed",
    "ensemble_runs",
    "ensemble_scores",
    "evaluation_summary",
    "evidence",
    "format_value",
    "load_reference",
    "publish_table",
    "randaug_grid_table",
    "recipe_labels",
    "recipe_tables",
    "reference_for",
    "render_grid_table",
    "render_table",
    "replicate_curves",
    "run_replicates",
    "show_top5",
    "summarize",
    "table2",
    "table6",
    "table7",
    "table7_val_recipes",
    "table8",
    "write_scores",
    "write_table",
]
