"""Tables 2–8 of the paper from the runs, our numbers beside the paper's: one import for all.

The code lives where a reader looks for it; this module gathers the names the notebooks use
(``from tempaug.analysis import tables; tables.table2(...)``):

* :mod:`tempaug.analysis.table_rows` — the paper's rows and labels (Tables 2–7);
* :mod:`tempaug.analysis.run_records` — reading run records, statistics over seeds;
* :mod:`tempaug.analysis.scores` — per-video scores, top-k accuracy, the ensemble (Sec. 4.5);
* :mod:`tempaug.analysis.statistics` — 95 % hierarchical bootstrap intervals over seeds and
  videos, the paired test of two methods;
* :mod:`tempaug.analysis.table_builders` — assembling Tables 2–8 (Sec. 4.2–4.5);
* :mod:`tempaug.analysis.rendering` — Markdown / CSV and captions.
"""

from __future__ import annotations

from tempaug.analysis.rendering import (
    MARK_BASELINE,
    MARK_COUNTERPART,
    RenderedTable,
    caption,
    data_note,
    evaluation_summary,
    evidence,
    format_value,
    markdown_table,
    publish_table,
    render_grid_table,
    render_table,
    show_top5,
    write_table,
)
from tempaug.analysis.run_records import RUN_COLUMNS, MissingRunsError, collect_runs, summarize
from tempaug.analysis.scores import (
    ensemble_by_seed,
    ensemble_runs,
    ensemble_scores,
    run_replicates,
    write_scores,
)
from tempaug.analysis.statistics import (
    ALPHA,
    CELL_INTERVAL,
    N_BOOT,
    PAIRED_TEST,
    Comparison,
    Estimate,
    bootstrap_means,
    compare,
    correctness,
    estimate,
    holm_adjust,
    nan_estimate,
    percentile_interval,
)
from tempaug.analysis.table_builders import (
    ablation_table,
    randaug_grid_table,
    table2,
    table6,
    table7,
    table8,
)
from tempaug.analysis.table_rows import (
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
from tempaug.train.scores import read_scores, topk_accuracy

__all__ = [
    "ALPHA",
    "BENCHMARKS",
    "CELL_INTERVAL",
    "COUNTERPARTS",
    "MARK_BASELINE",
    "MARK_COUNTERPART",
    "N_BOOT",
    "PAIRED_TEST",
    "RANDAUG_MODES",
    "RUN_COLUMNS",
    "TABLE6_ROWS",
    "TABLE7_ROWS",
    "TABLE_ROWS",
    "Comparison",
    "Estimate",
    "MissingRunsError",
    "RenderedTable",
    "ablation_table",
    "bootstrap_means",
    "caption",
    "collect_runs",
    "compare",
    "correctness",
    "data_note",
    "ensemble_by_seed",
    "ensemble_runs",
    "ensemble_scores",
    "estimate",
    "evaluation_summary",
    "evidence",
    "format_value",
    "holm_adjust",
    "markdown_table",
    "nan_estimate",
    "percentile_interval",
    "publish_table",
    "randaug_grid_table",
    "read_scores",
    "recipe_labels",
    "recipe_tables",
    "render_grid_table",
    "render_table",
    "run_replicates",
    "show_top5",
    "summarize",
    "table2",
    "table6",
    "table7",
    "table7_val_recipes",
    "table8",
    "topk_accuracy",
    "write_scores",
    "write_table",
]
