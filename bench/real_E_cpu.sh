#!/bin/bash
# Issue 12: the real-facades evaluator E as an ensemble of 4 networks (seeds 1-4), trained on this CPU in the background.
#
#   nohup bash bench/real_E_cpu.sh > runs/real_E_cpu.log 2>&1 &
#
# Two processes at one thread each: seeds 1 then 3, and 2 then 4 (about 1.7 h per network at one thread). Each network is
# kept under models_dir() and is not trained again; a stopped one continues from its .partial.pth at its last epoch, so
# after a stop, run the same command again. Then score the ensemble on the real test photos (minutes):
#   python bench/e_tta.py benchmark_v1_E_unet_width32_depth5_aug_cb0.5_cpu_e60_s{1,2,3,4}_ae6cdb94.pth --json nbs/results/real_E_ensemble4.json
set -e
MAIN=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel); cd "$MAIN" && . .venv/bin/activate
export SEMSEG_GAN_DATA=${SEMSEG_GAN_DATA:-$(dirname "$MAIN")/shared/data} OMP_NUM_THREADS=1
train() {  # train SEED...: E's networks with REAL_E's settings, one after the other
  python - "$@" <<'PY'
import sys, torch
from semseg_gan.benchmark import grid_evaluator, REAL_E
from semseg_gan.data import facades
torch.set_num_threads(1)
for s in map(int, sys.argv[1:]): print(f'seed {s}:', grid_evaluator(facades(), {**REAL_E, 'ensemble_seeds': (s,), 'tta': None}, quiet=False)[1], flush=True)
PY
}
train 1 3 & A=$!
train 2 4 & B=$!
wait $A; wait $B; echo "E's four networks are trained"
