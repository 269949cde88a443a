"""Issue 12: the real-facades grid (12_controlled_benchmark, part 3) on one GPU, as one prepared command for a lent GPU.

    python3 bench/gpu_grid.py --prepare                  # here, in a clean checkout: .gpu/ (the data, the commit's file list)
    python3 bench/gpu_grid.py --out DIR --minutes 8.5    # there: E's networks, then the grid, until done or time is up
    python3 bench/gpu_grid.py --out DIR --smoke          # the same code with tiny networks and 1 epoch (checks the script)

The grid is `bench_grid`'s ('pix2pix', 'semdisc_b1', 'balanced') at REAL_RUN (128 px, batch 1, 8 + 8 epochs), scored by
REAL_E, exactly as `bench/facades_grid.sh` runs it on the CPU; only the device differs (each result says which).
Phase 1 trains E's two networks (seeds 1 and 2) side by side. Phase 2 runs `bench_worker` in WORKERS processes, which
take the runs seed by seed. Every 15 s the finished results are packed into DIR/results.tar (written atomically), so
what finished before a stop comes back. Runs unfinished at the deadline are stopped and lost (a GPU lease keeps nothing).

Results must name committed code, and the copy of the tree sent to a GPU machine has no git history. So `--prepare`
writes the commit and `git ls-tree` of its `semseg_gan/`; there, before anything runs, each library file's git blob hash
is recomputed and compared with that list (every file, both ways), and only then do the results name that commit.
"""
import argparse, hashlib, json, os, shutil, subprocess, sys, tarfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS, PREP = ('pix2pix', 'semdisc_b1', 'balanced'), ROOT/'.gpu'

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
    want = {l.split('\t')[1]: l.split()[2] for l in (PREP/'tree').read_text().splitlines()}
    have = {str(p.relative_to(ROOT)): blob_hash(p.read_bytes()) for p in (ROOT/'semseg_gan').rglob('*')
            if p.is_file() and '__pycache__' not in p.parts}
    bad = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    if bad: sys.exit(f'the library here is not the commit in .gpu/commit: {bad} differ (run --prepare after committing)')
    return (PREP/'commit').read_text().strip()

def child(kind, arg, smoke):
    "One process: E's network `arg` (kind 'E'), or a grid worker (kind 'W'), naming the verified commit."
    import torch, semseg_gan.ablation as ab
    from semseg_gan.benchmark import grid_evaluator, bench_worker, REAL_E
    from semseg_gan.data import facades
    ab._IMPORTED_AT = verified_commit()
    torch.set_num_threads(1)
    E_over = dict(epochs=1, arch_kwargs=dict(width=8, depth=3)) if smoke else {}
    if kind == 'E':
        t0 = time.time(); _, recs = grid_evaluator(facades(), {**REAL_E, **E_over, 'ensemble_seeds': None, 'seed': int(arg)})
        print(f"E seed {arg}: validation mIoU {recs[0]['valid_scores']['mean_iou']:.3f} ({time.time() - t0:.0f} s)", flush=True)
    else:
        seeds = range(int(arg))
        budget = dict(epochs=1, epochs_decay=0, ngf=8, ndf=8) if smoke else {}
        cmd = os.environ['GPU_GRID_COMMAND']
        bench_worker(SETTINGS, seeds, '/tmp/gpu_grid/runs', '/tmp/gpu_grid/results', threads=1, command=cmd, grid='facades',
                     E_settings=E_over or None, **budget)

def pack(out:Path):
    "results.tar in `out`, written atomically: every finished result, the logs."
    tmp = out/'.results.tar.tmp'
    with tarfile.open(tmp, 'w') as t:
        for f in sorted(Path('/tmp/gpu_grid/results').glob('*.json')): t.add(f, f'results/{f.name}')
        for f in sorted(Path('/tmp/gpu_grid').glob('*.log')): t.add(f, f'logs/{f.name}')
    os.replace(tmp, out/'results.tar')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--prepare', action='store_true'); ap.add_argument('--data', default=os.environ.get('SEMSEG_GAN_DATA', '../shared/data'))
    ap.add_argument('--out'); ap.add_argument('--workers', type=int, default=12); ap.add_argument('--seeds', type=int, default=8)
    ap.add_argument('--minutes', type=float, default=8.5, help='stop everything this long after the start')
    ap.add_argument('--smoke', action='store_true'); ap.add_argument('--child', nargs=2)
    a = ap.parse_args()
    if a.prepare: return prepare(a.data)
    if a.child: return child(*a.child, a.smoke)
    t0, out = time.time(), Path(a.out); out.mkdir(parents=True, exist_ok=True)
    commit = verified_commit()
    import torch
    print(f"library = commit {commit[:7]} (checked file by file); torch {torch.__version__}; "
          f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}", flush=True)
    env = {**os.environ, 'SEMSEG_GAN_DATA': str(PREP/'data'), 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PYTHONUNBUFFERED': '1'}
    env.setdefault('SEMSEG_GAN_MODELS', '/tmp/gpu_grid/models')
    env['GPU_GRID_COMMAND'] = 'python3 bench/gpu_grid.py ' + ' '.join(sys.argv[1:])   # recorded in each result
    Path('/tmp/gpu_grid').mkdir(exist_ok=True)
    def spawn(kind, arg, i):
        log = open(f'/tmp/gpu_grid/{kind}{i}.log', 'w')
        return subprocess.Popen([sys.executable, __file__, '--child', kind, str(arg)] + ['--smoke'] * a.smoke, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline, done = t0 + 60 * a.minutes, threading.Event()
    def packer():
        while not done.wait(15): pack(out)
    threading.Thread(target=packer, daemon=True).start()
    phases = [('E', [spawn('E', s, s) for s in (1, 2)]), ('grid', None)]
    for name, procs in phases:
        if procs is None: procs = [spawn('W', a.seeds, i) for i in range(a.workers)]
        while any(p.poll() is None for p in procs) and time.time() < deadline: time.sleep(2)
        for p in procs:
            if p.poll() is None: p.kill()
        print(f"{name} phase over at {time.time() - t0:.0f} s; exit statuses {[p.wait() for p in procs]}", flush=True)
        if time.time() >= deadline or (name == 'E' and any(p.returncode for p in procs)): break
    done.set(); pack(out)
    n = len(list(Path('/tmp/gpu_grid/results').glob('*.json')))
    for f in sorted(Path('/tmp/gpu_grid').glob('*.log')): print(f'--- {f.name}\n' + ''.join(f.read_text().splitlines(True)[-6:]))
    print(f'{n} results in {out}/results.tar after {time.time() - t0:.0f} s')

if __name__ == '__main__': main()
