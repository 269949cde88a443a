"""Issue 12: the real-facades grid (12_controlled_benchmark, part 3) on one GPU, as one prepared command for a lent GPU.

    python3 bench/gpu_grid.py --prepare                  # here, in a clean checkout: .gpu/ (the data, the commit's file list)
    python3 bench/gpu_grid.py --out DIR --minutes 8.5    # there: E's networks, then the grid, until done or time is up
    python3 bench/gpu_grid.py --out DIR --smoke          # the same code with tiny networks and 1 epoch (checks the script; CI runs it)
    python3 bench/gpu_grid.py --out DIR --settings semloss,full_b1 --seeds 4-7    # other settings, other seeds (T_s is trained too)
    python3 bench/gpu_grid.py --out DIR --E '{"ensemble_seeds": [1, 2, 3, 4], "epochs": 100}'   # another E (REAL_E's keys)
--seeds 4 means seeds 0-3 (four seeds); --seeds 4-7 means seeds 4 to 7.

Results of two calls can be pooled only if they were scored by the same E. Each call on a fresh machine trains E again
(a lent machine keeps nothing, and E's networks are too big to bring back), and GPU training is not bit-for-bit
repeatable: compare the results' `real` per-class IoU (E on the real test photos) before pooling, and if they differ,
run the settings to be compared in one call.

--E changes E for one call (JSON of REAL_E's keys; the call gets its own work folder, and each result records the E that
scored it). The project aims for an E that reads 0.45 mIoU on the real test photos; REAL_E read 0.440 on the H200. A
stronger E is tried by training it and the grid it scores in the same call, into a new results folder, for example
    python3 bench/gpu_grid.py --out $OUT --minutes 9 --E '{"ensemble_seeds": [1, 2, 3, 4]}'
Each of E's networks is one phase-1 process: on an H200, two took 106 s side by side (60 epochs, width 32).

On a lent GPU (the `device` tool), which has torch but not fastai: carry the wheels of fastai 2.8.7, fastcore 1.14.5,
fastprogress 1.0.3 (newer ones need python-fasthtml), fastdownload 0.0.7, fasttransform 0.0.2, plum-dispatch 2.9.0
(its cp312 build) and beartype 0.23.1 in .whl/, carry .whl and .gpu, and run
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD &&
    python3 bench/gpu_grid.py --out $OUT --minutes 8.8 --workers 12
On an H200 (2026-11-30) E's two networks took 2 minutes, then 12 runs side by side 4.5-5.5 minutes of training each
(4.8-5.8 with scoring): seeds 0-3 of the three settings, all done 8 minutes after the start (nbs/results/facades_grid;
that call asked for seeds 0-7, and the runs of seeds 4-7 were stopped at its deadline and lost). The runs are small
(batch 1, 128 px), so the GPU mostly switches between processes; NVIDIA's MPS, if the machine has it, might run more at
once (untried).

The grid is `bench_grid`'s ('pix2pix', 'semdisc_b1', 'balanced') at REAL_RUN (128 px, batch 1, 8 + 8 epochs), scored by
REAL_E, exactly as `bench/facades_grid.sh` runs it on the CPU; only the device differs (each result says which).
Phase 1 trains E's two networks (seeds 1 and 2) side by side. Phase 2 runs `bench_worker` in WORKERS processes, which
take the runs seed by seed. Every 15 s the finished results are packed into DIR/results.tar (written atomically), so
what finished before a stop comes back. Runs unfinished at the deadline are stopped; a second call on the same machine
resumes them at their last epoch: run folders and results are kept in /tmp/gpu_grid_<commit> (/tmp/gpu_grid_smoke_<commit>
with --smoke; GPU_GRID_WORK to choose) until the machine goes back, so a call never reuses another commit's runs, and
results.tar holds only the settings and seeds asked for.

Results must name committed code, and the copy of the tree sent to a GPU machine has no git history. So `--prepare`
writes the commit and `git ls-tree` of its `semseg_gan/`; there, before anything runs, each library file's git blob hash
is recomputed and compared with that list (every file, both ways), and only then do the results name that commit.
"""
import argparse, hashlib, json, os, shlex, shutil, subprocess, sys, tarfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # the checkout's library, the one whose files are checked below
SETTINGS, PREP = ('pix2pix', 'semdisc_b1', 'balanced'), ROOT/'.gpu'
WORK = Path(os.environ.get('GPU_GRID_WORK', '/tmp/gpu_grid'))   # run folders, results, logs, E's networks: one per commit (set by the parent)

def prepare(data_root):
    "Here: copy CMP Facades' photos and label maps into .gpu/data, and record HEAD and its library files' blob hashes."
    if subprocess.run(['git', 'status', '--porcelain', '--', 'semseg_gan'], cwd=ROOT, capture_output=True, text=True).stdout.strip():
        sys.exit('semseg_gan/ has uncommitted changes: commit them first (results must name committed code)')
    src, dst = Path(data_root)/'cmp_facades'/'base', PREP/'data'/'cmp_facades'/'base'
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.suffix in ('.jpg', '.png') and not (dst/f.name).exists(): shutil.copy2(f, dst/f.name)
    head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    tree = subprocess.run(['git', 'ls-tree', '-r', head, 'semseg_gan'], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    (PREP/'commit').write_text(head + '\n'); (PREP/'tree').write_text(tree)
    print(f'.gpu/ ready for {head[:7]}: {len(list(dst.iterdir()))} data files, {len(tree.splitlines())} library files')

def blob_hash(b:bytes) -> str: return hashlib.sha1(b'blob %d\0' % len(b) + b).hexdigest()

def verified_commit() -> str:
    "The commit of .gpu/commit, if the library here is exactly its files; else an error that says what differs."
    if not (PREP/'tree').exists(): sys.exit(f'{PREP}/tree is missing: run --prepare here first, and carry .gpu (it is git-ignored) to the GPU machine')
    import semseg_gan
    if Path(semseg_gan.__file__).resolve().parent != ROOT/'semseg_gan': sys.exit(f'semseg_gan is imported from {semseg_gan.__file__}, not from {ROOT}')
    want = {l.split('\t')[1]: l.split()[2] for l in (PREP/'tree').read_text().splitlines()}
    have = {str(p.relative_to(ROOT)): blob_hash(p.read_bytes()) for p in (ROOT/'semseg_gan').rglob('*')
            if p.is_file() and '__pycache__' not in p.parts}
    bad = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    if bad: sys.exit(f'the library here is not the commit in .gpu/commit: {bad} differ (run --prepare after committing)')
    return (PREP/'commit').read_text().strip()

def seed_range(text:str) -> range:
    "'4' is seeds 0-3; '4-7' is seeds 4 to 7."
    lo, _, hi = text.partition('-')
    return range(int(lo)) if not hi else range(int(lo), int(hi) + 1)

def E_override() -> dict:
    "The --E settings (JSON, keys of REAL_E) this call's E is trained and scored with; {} for REAL_E itself."
    return json.loads(os.environ.get('GPU_GRID_E') or '{}')

def child(kind, arg, smoke):
    "One process: E's network of seed `arg` (kind 'E'), T_s (kind 'T'), or a grid worker (kind 'W', seeds `arg`), naming the verified commit."
    import torch, semseg_gan.ablation as ab
    from semseg_gan.benchmark import grid_evaluator, bench_worker, _segmenter_once, REAL_E, REAL_T_S
    from semseg_gan.data import facades
    ab._IMPORTED_AT = verified_commit()
    torch.set_num_threads(1)
    tiny = dict(epochs=1, arch_kwargs=dict(width=8, depth=3)) if smoke else {}   # --smoke: tiny networks, 1 epoch
    E_set = {**E_override(), **tiny}
    t0 = time.time()
    if kind == 'E':
        _, recs = grid_evaluator(facades(), {**REAL_E, **E_set, 'ensemble_seeds': None, 'seed': int(arg)})
        print(f"E seed {arg}: validation mIoU {recs[0]['valid_scores']['mean_iou']:.3f} ({time.time() - t0:.0f} s)", flush=True)
    elif kind == 'T':
        _, rec = _segmenter_once(facades(), 'T_s', {**REAL_T_S, **tiny}, False, True)
        print(f"T_s: validation mIoU {rec['valid_scores']['mean_iou']:.3f} ({time.time() - t0:.0f} s)", flush=True)
    else:
        budget = dict(epochs=1, epochs_decay=0, ngf=8, ndf=8) if smoke else {}
        bench_worker(os.environ['GPU_GRID_SETTINGS'].split(','), seed_range(arg), WORK/'runs', WORK/'results', threads=1,
                     command=os.environ['GPU_GRID_COMMAND'], grid='facades', E_settings=E_set or None, T_s_settings=tiny or None, **budget)

def finished(names:set) -> list:
    "The finished results among `names` (the runs asked for)."
    return sorted(f for f in (WORK/'results').glob('*.json') if f.name in names)

def pack(out:Path, names:set):
    "results.tar in `out`, written atomically: the finished results among `names` (the runs asked for), and the logs."
    tmp = out/'.results.tar.tmp'
    with tarfile.open(tmp, 'w') as t:
        for f in finished(names): t.add(f, f'results/{f.name}')
        for f in sorted(WORK.glob('*.log')): t.add(f, f'logs/{f.name}')
    os.replace(tmp, out/'results.tar')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--prepare', action='store_true'); ap.add_argument('--data', default=os.environ.get('SEMSEG_GAN_DATA', '../shared/data'))
    ap.add_argument('--out'); ap.add_argument('--workers', type=int, default=12); ap.add_argument('--seeds', default='4', help="'4': seeds 0-3; '4-7': seeds 4 to 7")
    ap.add_argument('--settings', default=','.join(SETTINGS), help='keys of BENCH_SETTINGS, comma-separated')
    ap.add_argument('--minutes', type=float, default=8.5, help='stop everything this long after the start')
    ap.add_argument('--smoke', action='store_true'); ap.add_argument('--child', nargs=2)
    ap.add_argument('--E', help='another E than REAL_E: JSON of the keys to change, e.g. \'{"ensemble_seeds": [1, 2, 3]}\'')
    a = ap.parse_args()
    if a.prepare: return prepare(a.data)
    if a.child: return child(*a.child, a.smoke)
    if not a.out: sys.exit('--out DIR is needed (where results.tar is written)')
    from semseg_gan.benchmark import BENCH_SETTINGS, _needs_T_s
    settings = a.settings.split(',')
    if bad := [st for st in settings if st not in BENCH_SETTINGS]: sys.exit(f'unknown setting(s) {bad}: choose from {list(BENCH_SETTINGS)}')
    seed_range(a.seeds)   # a bad --seeds fails here, not in every worker
    from semseg_gan.benchmark import REAL_E
    try: E_set = json.loads(a.E) if a.E else {}
    except json.JSONDecodeError as e: sys.exit(f'--E is not JSON ({e}): give the REAL_E keys to change, e.g. \'{{"ensemble_seeds": [1, 2, 3]}}\'')
    if not isinstance(E_set, dict) or (bad := sorted(set(E_set) - set(REAL_E))): sys.exit(f'--E: give a JSON object with keys of REAL_E {list(REAL_E)}, not {a.E}')
    t0, out = time.time(), Path(a.out); out.mkdir(parents=True, exist_ok=True)
    commit = verified_commit()
    global WORK   # never mixed with another commit's runs, nor a smoke run's with a real one's
    E_tag = '_E' + hashlib.sha1(json.dumps(E_set, sort_keys=True).encode()).hexdigest()[:8] if E_set else ''   # another E, other runs
    if 'GPU_GRID_WORK' not in os.environ: WORK = Path(f"/tmp/gpu_grid{'_smoke' * a.smoke}_{commit[:7]}{E_tag}")
    names = {f'{st}_seed{k}.json' for st in settings for k in seed_range(a.seeds)}
    import torch
    print(f"library = commit {commit[:7]} (checked file by file); torch {torch.__version__}; "
          f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}", flush=True)
    env = {**os.environ, 'SEMSEG_GAN_DATA': str(PREP/'data'), 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PYTHONUNBUFFERED': '1'}
    env.setdefault('SEMSEG_GAN_MODELS', str(WORK/'models'))
    env['GPU_GRID_WORK'], env['GPU_GRID_SETTINGS'], env['GPU_GRID_E'] = str(WORK), ','.join(settings), json.dumps(E_set)
    env['GPU_GRID_COMMAND'] = 'python3 bench/gpu_grid.py ' + shlex.join(sys.argv[1:])   # recorded in each result
    WORK.mkdir(exist_ok=True)
    for f in WORK.glob('*.log'): f.unlink()   # this call's logs only
    if before := len(finished(names)): print(f'{before} of these runs already finished in {WORK}: resuming', flush=True)
    def spawn(kind, arg, i):
        log = open(WORK/f'{kind}{i}.log', 'w')
        return subprocess.Popen([sys.executable, __file__, '--child', kind, str(arg)] + ['--smoke'] * a.smoke, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline, done = t0 + 60 * a.minutes, threading.Event()
    def packer():
        while not done.wait(15): pack(out, names)
    packing = threading.Thread(target=packer, daemon=True); packing.start()
    E_cfg = {**REAL_E, **E_set}   # this call's E
    E_seeds = E_cfg['ensemble_seeds'] or [E_cfg['seed']]
    first = [spawn('E', s, s) for s in E_seeds] + ([spawn('T', 0, 0)] if any(map(_needs_T_s, settings)) else [])
    phases = [('E' + (' and T_s' if len(first) > len(E_seeds) else ''), first), ('grid', None)]
    for name, procs in phases:
        if procs is None: procs = [spawn('W', a.seeds, i) for i in range(a.workers)]
        while any(p.poll() is None for p in procs) and time.time() < deadline: time.sleep(2)
        for p in procs:
            if p.poll() is None: p.kill()
        print(f"{name} phase over at {time.time() - t0:.0f} s; exit statuses {[p.wait() for p in procs]}", flush=True)
        if time.time() >= deadline or (name != 'grid' and any(p.returncode for p in procs)): break
    done.set(); packing.join(); pack(out, names)   # the last pack, after the packer's
    n = len(finished(names))
    for f in sorted(WORK.glob('*.log')): print(f'--- {f.name}\n' + ''.join(f.read_text().splitlines(True)[-6:]))
    print(f'{n} results in {out}/results.tar after {time.time() - t0:.0f} s')
    if not n: sys.exit('no finished run: see the logs above')

if __name__ == '__main__': main()
