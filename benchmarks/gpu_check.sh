#!/usr/bin/env bash
# One prepared GPU check (issue 26, item 4), <= 8 minutes on one H200 (timeouts 150 + 210 + 100 s):
#   1. the CUDA tests (@requires_cuda, selected with -k cuda) of the augmentations and the
#      trainer, with the batch-prep tests under torch.cuda.set_sync_debug_mode("error");
#   2. the train-step benchmark at the paper configuration (SlowFast-50, 64x160^2, batch 16,
#      autocast) without augmentation, with one mixing method per family of Table 1 and with
#      device-side RandAugment-T (benchmarks/train_step.py --configs paper);
#   3. the loader's paper-format rows (benchmarks/loader.py --paper-only) and, from both, the CPU
#      cores one GPU needs: (16 clips / measured step time) / clips per CPU-second.
# Logs: results/ci/gpu_check_<tag>.log, results/benchmarks/train_gpu_check.{csv,md},
# results/benchmarks/loader_paper.{csv,md}, results/benchmarks/gpu_check.md (--quick: *_quick.*,
# and the committed loader_paper.* are left as they are); copied to $OUT too
# when it is set (the device runner brings back only $OUT).
# Without CUDA the CUDA parts are skipped (pytest skips them, the benchmark has no paper rows).
# Usage: benchmarks/gpu_check.sh [--quick]   (--quick: 2-step windows, few clips: a smoke run)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
if [[ -n "${PYTHON:-}" ]]; then PY=$PYTHON
elif [[ -x .venv/bin/python ]]; then PY=.venv/bin/python
else PY=$(command -v python3); fi
export PYTHONPATH="$ROOT/src:$ROOT/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
HAS_CUDA=$("$PY" -c "import torch; print(int(torch.cuda.is_available()))")
TAG=$([[ $HAS_CUDA == 1 ]] && echo cuda || echo cpu)
[[ $QUICK == 1 ]] && TAG="${TAG}_quick"
mkdir -p results/ci results/benchmarks
LOG="results/ci/gpu_check_${TAG}.log"
STEM="train_gpu_check$([[ $QUICK == 1 ]] && echo _quick)"
status=0
{
  echo "# gpu_check.sh $(date -u +%FT%TZ), cuda=$HAS_CUDA quick=$QUICK"
  "$PY" -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0], torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"
  echo "## 1. CUDA tests (sync debug mode 'error' in tests/test_augment_host_sync.py)"
  timeout 150 "$PY" -m pytest -q -p no:cacheprovider -k cuda \
    tests/test_augment_host_sync.py tests/test_augment_mixing.py tests/test_augment_deleting.py \
    tests/test_augment_randaugment_t.py tests/test_train_trainer.py || status=1
  echo "## 2. train-step benchmark, paper configuration"
  if [[ $HAS_CUDA == 1 ]]; then
    steps=$([[ $QUICK == 1 ]] && echo "--steps 2 --runs 1" || echo "--steps 5 --runs 3")
    # shellcheck disable=SC2086
    timeout 210 "$PY" benchmarks/train_step.py --configs paper --no-wait $steps \
      --augs none framecutout framecutmix fademixup framecutmixup randaugt randaugt+framecutmixup \
      --stem "$STEM" || status=1
  else
    echo "skipped: no CUDA (a CPU paper-config step takes minutes)"
    timeout 120 "$PY" benchmarks/train_step.py --quick --cpu-only --threads 1 --no-wait \
      --steps 1 --runs 1 --augs none framecutmix --stem "$STEM" || status=1
  fi
  echo "## 3. loader cores per GPU"
  loader_args=$([[ $QUICK == 1 ]] && echo "--quick --paper-only" || echo "--paper-only")
  LOADER_STEM=loader_paper
  if [[ $QUICK == 1 ]]; then  # keep the committed loader_paper.* (quick numbers go elsewhere)
    SAVE=$(mktemp -d); cp results/benchmarks/loader_paper.* "$SAVE"/ 2>/dev/null
  fi
  # shellcheck disable=SC2086
  timeout 100 "$PY" benchmarks/loader.py $loader_args || status=1
  if [[ $QUICK == 1 ]]; then
    LOADER_STEM=loader_paper_quick
    for ext in csv md; do
      mv results/benchmarks/loader_paper.$ext results/benchmarks/$LOADER_STEM.$ext 2>/dev/null
      cp "$SAVE"/loader_paper.$ext results/benchmarks/ 2>/dev/null
    done
    rm -rf "$SAVE"
  fi
  "$PY" - "$STEM" "$LOADER_STEM" <<'PYEOF' || status=1
import csv, sys
from pathlib import Path
bench = Path("results/benchmarks")
train = list(csv.DictReader((bench / f"{sys.argv[1]}.csv").open()))
loader = list(csv.DictReader((bench / f"{sys.argv[2]}.csv").open()))
lines = ["# CPU cores one GPU needs (gpu_check.sh)", "",
         "Clips per second a GPU trains at = 16 / measured trainer step (paper configuration); "
         "cores = that / the loader's clips per CPU-second (one worker per core).", "",
         "| GPU step (aug) | trainer ms | GPU clips/s | loader row | clips per CPU-s | cores |",
         "| --- | ---: | ---: | --- | ---: | ---: |"]
for t in (r for r in train if r["config"] == "paper"):
    gpu_rate = 16 / (float(t["trainer_ms"]) / 1e3)
    for row in loader:
        cpu_rate = float(row["clips_per_cpu_s"])
        lines.append(f"| {t['device']} ({t['aug']}) | {t['trainer_ms']} | {gpu_rate:.0f} "
                     f"| {row['loader']} | {cpu_rate:.1f} | {gpu_rate / cpu_rate:.1f} |")
if not any(r["config"] == "paper" for r in train):
    lines.append("| (no CUDA: no paper-configuration step measured) | | | | | |")
(bench / f"gpu_check{'_quick' if 'quick' in sys.argv[1] else ''}.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PYEOF
  echo "# done, status $status"
} 2>&1 | tee "$LOG"
if [[ -n "${OUT:-}" ]]; then
  mkdir -p "$OUT/results/ci" "$OUT/results/benchmarks"
  cp "$LOG" "$OUT/results/ci/"
  cp results/benchmarks/"$STEM".* results/benchmarks/loader_paper*.* results/benchmarks/gpu_check*.md \
    "$OUT/results/benchmarks/" 2>/dev/null
fi
exit $status
