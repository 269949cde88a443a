#!/bin/bash
# Issue 12: the real-facades grid of 12_controlled_benchmark, in the background, resumable.
#
#   bash bench/facades_grid.sh COMMIT [WORKERS]      e.g. nohup bash bench/facades_grid.sh acfd370 2 > runs/facades_grid.log 2>&1 &
#
# It runs the library of COMMIT from a clean git worktree (/work/grid_wt_COMMIT), so every result names committed code.
# bench_grid first loads E's two networks and T_s (training any that is missing: about 1.5 hours each at one thread), then
# WORKERS processes (default 2) at one thread each take the runs not yet finished. Run folders (checkpoints, resumable at
# the epoch) stay in runs/facades_grid of this checkout; each finished run's JSON lands in nbs/results/facades_grid:
# commit it as it lands. After a stop, run the same command again.
set -e
C=${1:?usage: bench/facades_grid.sh COMMIT [WORKERS]}; W=${2:-2}
MAIN=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel); WT=$(dirname "$MAIN")/grid_wt_$C
[ -d "$WT" ] || git -C "$MAIN" worktree add --detach "$WT" "$C"
cd "$WT" && . "$MAIN/.venv/bin/activate"
export SEMSEG_GAN_DATA=${SEMSEG_GAN_DATA:-$(dirname "$MAIN")/shared/data} PYTHONPATH="$WT"
python -c "import semseg_gan; assert semseg_gan.__file__.startswith('$WT'), semseg_gan.__file__"
MAIN="$MAIN" W="$W" python - <<'PY'
import os
from semseg_gan.benchmark import bench_grid
m = os.environ['MAIN']
bench_grid(('pix2pix', 'semdisc_b1', 'balanced'), seeds=range(4), grid='facades',
           runs=f'{m}/runs/facades_grid', results=f'{m}/nbs/results/facades_grid', workers=int(os.environ['W']), threads=1)
PY
