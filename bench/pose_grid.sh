#!/bin/bash
# Issue 12: a Market-1501 pose grid of 11_pose_market in the background, on both cores, resumable at the run and the epoch.
#
#   bash bench/pose_grid.sh COMMIT NAME VARIANTS EPOCHS EPOCHS_DECAY [SEEDS]
#   e.g. nohup bash bench/pose_grid.sh b72ca5f market_pose_cpu4_b1 semdisc_b1 2 2 > runs/market_pose_cpu4_b1.log 2>&1 &
#
# It runs the library of COMMIT from a clean git worktree (/work/pose_wt_COMMIT), so every result names committed code.
# The settings of the 4-seed grid in 11 (ngf 32, the augmented U-Net evaluator). First one process trains T_s and the
# evaluator (or loads them from runs/NAME/a: about 30 minutes at one thread); then two processes at one thread each run
# the seeds, one the even and one the odd ones, in runs/NAME/{a,b}. Every 60 s their results are merged into
# nbs/results/NAME.json (written atomically; its `started` stays the first start's): commit it as runs land. After a stop, run the same command again: finished
# runs are only scored again, and an unfinished one continues from its last epoch's checkpoint (when COMMIT's `run_grid`
# says "resumes at its last epoch" in its docstring; older commits start such a run over).
# On a fresh machine (no run folders) every run is made again, and the merge keeps the committed file's runs until then;
# it refuses to overwrite a file whose header (code, data, T_s, evaluator) differs from this start's.
# A smoke test of the script (minutes): PRESET=tiny POSE_EPOCHS=1 RESULTS=/tmp/smoke bash bench/pose_grid.sh COMMIT smoke pix2pix,semdisc_b1 1 0 0,1
set -e
C=${1:?usage: bench/pose_grid.sh COMMIT NAME VARIANTS EPOCHS EPOCHS_DECAY [SEEDS]}; NAME=${2:?}; V=${3:?}; EP=${4:?}; ED=${5:?}; S=${6:-0,1,2,3}
MAIN=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel); WT=$(dirname "$MAIN")/pose_wt_$C
[ -d "$WT" ] || git -C "$MAIN" worktree add --detach "$WT" "$C"
cd "$WT" && . "$MAIN/.venv/bin/activate"
export SEMSEG_GAN_DATA=${SEMSEG_GAN_DATA:-$(dirname "$MAIN")/shared/data} PYTHONPATH="$WT" OMP_NUM_THREADS=1
export RUNS="$MAIN/runs/$NAME" OUT="${RESULTS:-$MAIN/nbs/results}/$NAME.json" V EP ED PRESET=${PRESET:-market} POSE_EPOCHS=${POSE_EPOCHS:-30}
export CMD="bash bench/pose_grid.sh $C $NAME $V $EP $ED $S"
python -c "import semseg_gan; assert semseg_gan.__file__.startswith('$WT'), semseg_gan.__file__"
grid() {  # grid FOLDER SEEDS: run_pose_ablation with this grid's settings
  python - "$@" <<'PY'
import os, sys, torch
from semseg_gan.pose import run_pose_ablation
torch.set_num_threads(1)
e = os.environ; seeds = tuple(int(s) for s in sys.argv[2].split(',') if s)
run_pose_ablation(e['PRESET'], int(e['EP']), int(e['ED']), seeds=seeds, variants=tuple(e['V'].split(',')), ngf=32,
                  out=sys.argv[1], E_augment=True, pose_epochs=int(e['POSE_EPOCHS']), command=e['CMD'])
PY
}
merge() {  # both halves' results.json -> nbs/results/NAME.json, if their headers agree (the same code, data, T_s and evaluator)
  python - <<'PY'
import json, os
from pathlib import Path
from semseg_gan.core import atomic_write
e = os.environ; parts = [json.loads(p.read_text()) for p in (Path(e['RUNS'])/h/'results.json' for h in 'ab') if p.exists()]
if parts:
    own = ('seeds', 'started', 'finished', 'runs')
    head = {k: v for k, v in parts[0].items() if k not in own}
    for p in parts[1:]:
        diff = [k for k in set(head) | set(p) if k not in own and p.get(k) != head.get(k)]
        if diff: raise SystemExit(f"the two halves differ in {diff}: they cannot be pooled")
    runs = [r for p in parts for r in p['runs']]
    old = Path(e['OUT']).read_text() if Path(e['OUT']).exists() else None
    prev = json.loads(old) if old else {}   # the committed file: an earlier start of this grid, perhaps on a machine since lost
    if prev and {k: v for k, v in prev.items() if k not in own} != head:
        raise SystemExit(f"{e['OUT']} holds runs with another header (code, data, T_s or evaluator): not overwritten; use another NAME")
    have = {(r['variant'], r['seed']) for r in runs}   # its runs are kept, unless this start has made them again
    runs = sorted(runs + [r for r in prev.get('runs', []) if (r['variant'], r['seed']) not in have],
                  key=lambda r: (r['seed'], e['V'].split(',').index(r['variant'])))
    starts = [p['started'] for p in parts] + ([prev['started']] if 'started' in prev else [])
    res = dict(head, seeds=sorted({s for p in parts for s in p['seeds']}), started=min(starts), runs=runs)
    if len(parts) == 2 and all('finished' in p for p in parts): res['finished'] = max(p['finished'] for p in parts)
    new = json.dumps(res, indent=1)
    if new != old:
        atomic_write(Path(e['OUT']), lambda f: f.write(new.encode()))
        print(f"{e['OUT']}: {len(runs)} runs", flush=True)
PY
}
EVEN=$(echo "$S" | tr ',' '\n' | awk 'NR % 2 == 1' | paste -sd,); ODD=$(echo "$S" | tr ',' '\n' | awk 'NR % 2 == 0' | paste -sd,)
grid "$RUNS/a" "" && rm "$RUNS/a/results.json"   # T_s and the evaluator, trained once (or loaded); no runs yet
mkdir -p "$RUNS/b"; for f in "$RUNS"/a/pose_net_*.pth; do ln -sf "$f" "$RUNS/b/"; done   # the other half loads the same networks
grid "$RUNS/a" "$EVEN" & A=$!
grid "$RUNS/b" "$ODD" & B=$!
while kill -0 $A 2>/dev/null || kill -0 $B 2>/dev/null; do merge; sleep 60; done
wait $A; wait $B; merge; echo "all runs of $NAME finished"
