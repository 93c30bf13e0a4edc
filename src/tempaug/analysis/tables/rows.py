"""The rows of the paper's Tables 2–8, in the paper's order (Kim et al., ECCV-W 2020, Sec. 4).

Which recipe (our run name) fills which row, and the row's label: Table 2's RandAugment ranges
(Sec. 4.2), Tables 3–5's deleting / cut-and-paste / blending methods (Sec. 4.3), Table 6's
HMDB-51 rows (Sec. 4.4) and Table 7's VIPriors rows (Sec. 4.5). Also the label and table of a
recipe, for the analyses that report per-recipe results (:func:`recipe_labels`,
:func:`recipe_tables`).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BENCHMARKS",
    "COUNTERPARTS",
    "RANDAUG_MODES",
    "TABLE6_ROWS",
    "TABLE7_ROWS",
    "TABLE_ROWS",
    "recipe_labels",
    "recipe_tables",
    "table7_val_recipes",
]

#: Benchmarks a run can belong to.
BENCHMARKS: tuple[str, ...] = ("ucf101_val", "hmdb51", "vipriors_test")

#: RandAugment ranges of Table 2, in the paper's row order: (mode, recipe, label).
RANDAUG_MODES: tuple[tuple[str, str, str], ...] = (
    ("spatial", "randaug_spatial", "RandAugment Spatial"),
    ("temporal", "randaug_temporal", "RandAugment Temporal"),
    ("temporal_plus", "randaug_temporal_plus", "RandAugment Temporal+"),
    ("mix", "randaug_mix", "RandAugment Mix"),
)

#: Rows of Tables 3–5: (recipe, label), in the paper's order; the recipe is also the reference key.
TABLE_ROWS: dict[int, tuple[tuple[str, str], ...]] = {
    3: (
        ("baseline", "Baseline"),
        ("cutout", "CutOut"),
        ("framecutout", "FrameCutOut"),
        ("cubecutout", "CubeCutOut"),
    ),
    4: (
        ("baseline", "Baseline"),
        ("cutmix", "CutMix (α = 2)"),
        ("framecutmix_a2", "FrameCutMix (α = 2)"),
        ("framecutmix_a5", "FrameCutMix (α = 5)"),
        ("cubecutmix_a2", "CubeCutMix (α = 2)"),
        ("cubecutmix_a5", "CubeCutMix (α = 5)"),
    ),
    5: (
        ("baseline", "Baseline"),
        ("mixup", "MixUp"),
        ("fademixup", "FadeMixUp"),
        ("cutmixup", "CutMixUp"),
        ("framecutmixup", "FrameCutMixUp"),
        ("cubecutmixup", "CubeCutMixUp"),
    ),
}

#: Rows of Table 6: (reference key, label). The recipe of each row is given by the caller
#: (``recipes``), because the paper does not say which α its HMDB-51 cut-and-paste rows use.
TABLE6_ROWS: tuple[tuple[str, str], ...] = (
    ("baseline", "Baseline"),
    ("randaug", "RandAug"),
    ("randaugt", "RandAug-T"),
    ("cutout", "CutOut"),
    ("framecutout", "FrameCutOut"),
    ("cubecutout", "CubeCutOut"),
    ("cutmix", "CutMix"),
    ("framecutmix", "FrameCutMix"),
    ("cubecutmix", "CubeCutMix"),
    ("mixup", "MixUp"),
    ("cutmixup", "CutMixUp"),
    ("framecutmixup", "FrameCutMixUp"),
    ("cubecutmixup", "CubeCutMixUp"),
    ("fademixup", "FadeMixUp"),
)

#: Rows of Table 7: (reference key, train data, test data, augmentation, regularization, others).
TABLE7_ROWS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("val/baseline", "Train", "Val", "", "", ""),
    ("val/framecutmixup", "Train", "Val", "", "FrameCutMixUp", ""),
    ("val/randaug", "Train", "Val", "RandAug", "", ""),
    ("val/randaugt", "Train", "Val", "RandAug-T", "", ""),
    ("val/randaugt_fademixup", "Train", "Val", "RandAug-T", "FadeMixUp", ""),
    ("val/randaugt_framecutmixup", "Train", "Val", "RandAug-T", "FrameCutMixUp", ""),
    ("test/baseline", "Train+Val", "Test", "", "", ""),
    ("test/randaugt", "Train+Val", "Test", "RandAug-T", "", ""),
    ("test/randaugt_fademixup", "Train+Val", "Test", "RandAug-T", "FadeMixUp", ""),
    ("test/ensemble", "Train+Val", "Test", "RandAug-T", "", "All Methods Ensemble"),
)


#: Per table: row key → the row of its spatial counterpart, tested against it (Frame/Cube → the
#: spatial method, FadeMixUp → MixUp, RandAugment-T ranges → RandAugment spatial; in Table 7 a
#: RandAug-T + X row → RandAug-T alone). Rows absent here get no counterpart mark.
COUNTERPARTS: dict[int, dict[str, str]] = {
    2: {
        "randaug_temporal": "randaug_spatial",
        "randaug_temporal_plus": "randaug_spatial",
        "randaug_mix": "randaug_spatial",
    },
    3: {"framecutout": "cutout", "cubecutout": "cutout"},
    4: {
        "framecutmix_a2": "cutmix",
        "framecutmix_a5": "cutmix",
        "cubecutmix_a2": "cutmix",
        "cubecutmix_a5": "cutmix",
    },
    5: {
        "fademixup": "mixup",
        "framecutmixup": "cutmixup",
        "cubecutmixup": "cutmixup",
    },
    6: {
        "randaugt": "randaug",
        "framecutout": "cutout",
        "cubecutout": "cutout",
        "framecutmix": "cutmix",
        "cubecutmix": "cutmix",
        "framecutmixup": "cutmixup",
        "cubecutmixup": "cutmixup",
        "fademixup": "mixup",
    },
    7: {
        "val/randaugt": "val/randaug",
        "val/randaugt_fademixup": "val/randaugt",
        "val/randaugt_framecutmixup": "val/randaugt",
        "test/randaugt_fademixup": "test/randaugt",
        "test/ensemble": "test/randaugt",
    },
}


def table7_val_recipes(ucf101_randaug: Sequence[str] = ()) -> list[str]:
    """UCF-101 validation recipes whose runs Table 7's train → validation rows read.

    ``val/randaug`` and ``val/randaugt`` are the best ``randaug_spatial`` / ``randaug_temporal_plus``
    grid points; the other ``val/<recipe>`` rows name their recipe.
    """
    out = []
    for key, *_ in TABLE7_ROWS:
        where, recipe = key.split("/", 1)
        if where != "val":
            continue
        out.append(
            {"randaug": "randaug_spatial", "randaugt": "randaug_temporal_plus"}.get(recipe, recipe)
        )
    return list(dict.fromkeys([*out, *ucf101_randaug]))


def recipe_labels() -> dict[str, str]:
    """Recipe → the paper's row label, over Tables 2–5 (e.g. ``"cutmix"`` → ``"CutMix (α = 2)"``)."""
    labels = dict(TABLE_ROWS[3] + TABLE_ROWS[4] + TABLE_ROWS[5])
    labels.update({recipe: label for _, recipe, label in RANDAUG_MODES})
    return labels


def recipe_tables() -> dict[str, str]:
    """Recipe → the table its row is in (``"2"`` … ``"5"``; ``"2–5"`` for the baseline).

    Ordered as the paper's rows: baseline, Table 2's ranges, then Tables 3, 4 and 5.
    """
    tables = {"baseline": "2–5"}
    tables.update({recipe: "2" for _, recipe, _ in RANDAUG_MODES})
    for t in (3, 4, 5):
        tables.update({r: str(t) for r, _ in TABLE_ROWS[t] if r != "baseline"})
    return tables
