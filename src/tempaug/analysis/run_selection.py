"""Which trained runs an analysis of the Table 2–5 models reads, and where their checkpoints are.

The CAM figures and localization score (Sec. 4.6, Figs. 5–6) and the robustness suite (beyond
the paper) re-read the UCF-101 validation runs of Tables 2–5: the RandAugment grid (Table 2) and
the plain recipes (Tables 3–5). These functions pick those runs out of the planned run matrix
(``tempaug.pipeline.planned_runs``), name them in tables, and find their checkpoints
(``<scratch>/<run_id>/checkpoints/last.pt``, written by the training stages) and rebuild their
models (:func:`load_trained_model`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import os

    import torch

__all__ = [
    "RunLike",
    "cam_runs",
    "checkpoint_path",
    "first_seed_runs",
    "grid_size",
    "in_table_order",
    "load_trained_model",
    "missing_checkpoints",
    "missing_checkpoints_error",
    "run_label",
    "run_method_name",
    "split_names",
    "table2to5_recipes",
    "table2to5_runs",
]


class RunLike(Protocol):
    """What is read of a run spec (``tempaug.pipeline.RunSpec``)."""

    recipe: str
    seed: int
    num_ops: int | None
    magnitude: int | None

    @property
    def grid_point(self) -> bool: ...

    @property
    def run_id(self) -> str: ...


def split_names(text: str | Sequence[str]) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]`` (a list is returned stripped, empties dropped)."""
    items = str(text).split(",") if isinstance(text, str) else list(text)
    return [t.strip() for t in items if str(t).strip()]


def table2to5_recipes(experiments: Mapping[str, Any]) -> list[str]:
    """The recipes of Tables 2–5: the RandAugment grid (Table 2) then the plain recipes (3–5)."""
    exp = experiments["ucf101_val"]
    return [*exp.get("grid", []), *exp.get("plain", [])]


def _check_known(asked: Iterable[str], known: Sequence[str]) -> None:
    unknown = sorted(set(asked) - set(known))
    if unknown:
        raise ValueError(f"recipes {unknown} are not Table 2–5 runs; choose from {list(known)}")


def table2to5_runs(
    planned: Iterable[RunLike], experiments: Mapping[str, Any], recipes: str | Sequence[str]
) -> list[RunLike]:
    """The planned UCF-101 validation runs of ``recipes`` (``"all"``: every Table 2–5 recipe).

    Args:
        planned: the run matrix's UCF-101 validation runs, in order.
        experiments: ``params["experiments"]``.
        recipes: ``"all"``, a comma-separated string or a list of Table 2–5 recipes.

    Raises:
        ValueError: a recipe is not a Table 2–5 recipe (the message lists the allowed ones).
    """
    known = table2to5_recipes(experiments)
    asked = known if recipes == "all" else split_names(recipes)
    _check_known(asked, known)
    return [s for s in planned if s.recipe in set(asked)]


def cam_runs(
    planned: Iterable[RunLike],
    experiments: Mapping[str, Any],
    recipes: str | Sequence[str],
    figure_recipes: Sequence[str],
    *,
    figures: bool,
    scores: bool,
) -> list[RunLike]:
    """The runs the CAM stage loads: the figures' runs and/or the runs it scores (Sec. 4.6).

    Args:
        planned: the run matrix's UCF-101 validation runs, in order.
        experiments: ``params["experiments"]``.
        recipes: runs scored: ``"figures"`` (the figures' runs), ``"all"`` or a list.
        figure_recipes: the recipes of the Fig. 5 and Fig. 6 columns.
        figures: whether the figures are drawn (their runs are then loaded).
        scores: whether the localization score is computed (``recipes`` are then loaded).

    Raises:
        ValueError: a recipe (scored or drawn) is not a Table 2–5 recipe.
    """
    known = table2to5_recipes(experiments)
    if recipes == "figures":
        asked = list(figure_recipes)
    else:
        asked = known if recipes == "all" else split_names(recipes)
    _check_known([*asked, *figure_recipes], known)
    wanted = (set(asked) if scores else set()) | (set(figure_recipes) if figures else set())
    return [s for s in planned if s.recipe in wanted]


def checkpoint_path(root: str | Path, spec: RunLike) -> Path:
    """The last checkpoint of a run: ``root/<run_id>/checkpoints/last.pt``."""
    return Path(root) / spec.run_id / "checkpoints" / "last.pt"


def missing_checkpoints(specs: Iterable[RunLike], root: str | Path | None) -> list[str]:
    """``run_id`` of every run without a checkpoint under ``root`` (all of them when ``None``)."""
    return [s.run_id for s in specs if root is None or not checkpoint_path(root, s).is_file()]


def missing_checkpoints_error(
    root: str | Path | None, missing: Sequence[str], hint: str
) -> FileNotFoundError:
    """The error raised when the pipeline's checkpoints are missing (names the first five)."""
    more = " …" if len(missing) > 5 else ""
    return FileNotFoundError(
        f"checkpoints missing under {root}: {list(missing[:5])}{more} — {hint}"
    )


def grid_size(profile: Mapping[str, Any]) -> int:
    """Number of N × M points of the profile's RandAugment grid (Table 2)."""
    grid = profile["randaug_grid"]
    return len(grid["num_ops"]) * len(grid["magnitude"])


def run_label(spec: RunLike, labels: Mapping[str, str], grid_points: int) -> str:
    """A run's row label: the paper's label of its recipe, plus N and M on a grid of several."""
    label = labels.get(spec.recipe, spec.recipe)
    if spec.grid_point and grid_points > 1:
        label += f" (N={spec.num_ops}, M={spec.magnitude})"
    return label


def run_method_name(spec: RunLike, grid_points: int) -> str:
    """A run's method key: its recipe, with ``-n<N>-m<M>`` on a grid of several points."""
    if spec.grid_point and grid_points > 1:
        return f"{spec.recipe}-n{spec.num_ops}-m{spec.magnitude}"
    return spec.recipe


def first_seed_runs(specs: Iterable[RunLike], first_seed: int) -> dict[str, RunLike]:
    """Recipe → its run with ``first_seed`` at the profile's RandAugment setting (no grid point)."""
    return {s.recipe: s for s in specs if s.seed == first_seed and not s.grid_point}


def in_table_order(specs: Iterable[RunLike], order: Sequence[str]) -> list[RunLike]:
    """``specs`` sorted by their recipe's place in ``order`` (stable; unlisted recipes last)."""
    rank = {r: i for i, r in enumerate(order)}
    return sorted(specs, key=lambda s: rank.get(s.recipe, len(rank) + 99))


def load_trained_model(
    checkpoint: str | os.PathLike, *, device: torch.device | str = "cpu"
) -> torch.nn.Module:
    """Rebuild a model from a checkpoint written by :func:`tempaug.train.fit`, in eval mode.

    The architecture comes from the checkpoint's ``model_name`` / ``model_kwargs`` and is built
    with :func:`tempaug.models.build_model`.

    Args:
        checkpoint: path of a ``.pt`` file (e.g. ``runs/<run_id>/checkpoints/last.pt``).
        device: where the model goes.

    Returns:
        The model, on ``device``, in eval mode.

    Raises:
        ValueError: the file is missing or is not a tempaug checkpoint.
    """
    from tempaug.models import build_model
    from tempaug.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint, map_location="cpu")
    for key in ("model", "model_name", "model_kwargs"):
        if key not in state:
            raise ValueError(f"checkpoint {str(checkpoint)!r} has no {key!r} entry")
    kwargs = dict(state["model_kwargs"])
    num_classes = kwargs.pop("num_classes")
    model = build_model(state["model_name"], num_classes, **kwargs)
    model.load_state_dict(state["model"])
    return model.to(device).eval()
