"""The experiment runner's throughput: is the machine better used by one training process with all threads, or by one
process per core with one thread each (what `benchmark.bench_grid` does with `workers`, `threads`)?

For each grid of notebook 12 ('bench': 64 px, batch 4, ngf = ndf = 32; 'facades': 128 px, batch 1, ngf = ndf = 64) and
a variant, it trains for a fixed number of steps in each layout and prints the images per second the whole machine
trains. The layouts are measured in alternating turns of one run. In the multi-process layout the processes build
their learners, warm up, and start their timed steps together (a shared start time); each counts its own steps, and
the machine's rate is the sum of theirs.

    python bench/bench_runner.py                  # both grids, pix2pix and full, 3 turns (~10 min on 2 cores)
    python bench/bench_runner.py --smoke          # 2 steps per measurement: it runs (no number means anything)
    python bench/bench_runner.py --write          # also rewrite the runner table in docs/benchmarks.md
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent

_WORKER = """
import json, sys, time, torch
torch.set_num_threads({threads})
sys.path.insert(0, {bench!r})
import bench_cpu as b
from semseg_gan.core import set_seed
set_seed(0)
dls = b.dls_for({size}, {bs})
learn = b.learner({variant!r}, dls, ngf={ngf}, ndf={ngf})
with learn.no_bar(), learn.no_logging(): learn.fit(100, cbs=b.StepTimer(0, 2))    # warm-up
late = time.time() - {start}
while time.time() < {start}: time.sleep(0.01)
timer = b.StepTimer(0, {steps})
with learn.no_bar(), learn.no_logging(): learn.fit(1000, cbs=timer)
print(json.dumps(dict(images=len(timer.times) * {bs}, seconds=sum(timer.times), late=late)))
"""

GRIDS = {'bench': dict(size=64, bs=4, ngf=32), 'facades': dict(size=128, bs=1, ngf=64)}

def layout_rate(procs:int, threads:int, variant:str, steps:int, size:int, bs:int, ngf:int, margin:float=40.) -> float:
    "Images per second trained by `procs` processes of `threads` threads each, run at the same time."
    start = time.time() + margin
    code = _WORKER.format(threads=threads, bench=str(ROOT/'bench'), size=size, bs=bs, variant=variant, ngf=ngf, start=start, steps=steps)
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads)}
    ps = [subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
          for _ in range(procs)]
    outs = [p.communicate() for p in ps]
    for p, (o, e) in zip(ps, outs):
        if p.returncode: raise RuntimeError(f"a worker failed:\n{e[-2000:]}")
    rs = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    if any(r['late'] > 1 for r in rs): print(f"  (a worker was {max(r['late'] for r in rs):.0f} s late: raise the margin)", file=sys.stderr)
    return sum(r['images'] / r['seconds'] for r in rs)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--smoke', action='store_true'); ap.add_argument('--write', action='store_true')
    ap.add_argument('--turns', type=int, default=3); ap.add_argument('--steps', type=int, default=None)
    ap.add_argument('--variants', default='pix2pix,full')
    a = ap.parse_args()
    if a.smoke and a.write: ap.error('--smoke measures nothing: it cannot --write')
    cores = os.cpu_count()
    layouts = {f'1 process × {cores} threads': (1, cores), f'{cores} processes × 1 thread': (cores, 1)}
    lines = [f"Run: `python bench/bench_runner.py {' '.join(sys.argv[1:])}` on {time.strftime('%Y-%m-%d')}, {cores} cores, "
             f"{a.turns} alternating turns per layout, the median turn.", "",
             "| grid | variant | " + " | ".join(f"{k} (images/s)" for k in layouts) + " | ratio |", "|---|---|" + "---|" * len(layouts) + "---|"]
    for grid, g in GRIDS.items():
        steps = a.steps or (2 if a.smoke else 60 if g['bs'] > 1 else 120)
        for variant in a.variants.split(','):
            rates = {k: [] for k in layouts}
            for t in range(1 if a.smoke else a.turns):
                for k in (list(layouts) if t % 2 == 0 else list(layouts)[::-1]):
                    rates[k].append(layout_rate(*layouts[k], variant, steps, **g, margin=20 if a.smoke else 25))
            med = {k: statistics.median(v) for k, v in rates.items()}
            one, many = med.values()
            row = f"| {grid} ({g['size']} px, batch {g['bs']}) | {variant} | " + " | ".join(f"{v:.2f}" for v in med.values()) + f" | {many / one:.2f} |"
            print(row, flush=True); lines.append(row)
    if a.write:
        doc = ROOT/'docs'/'benchmarks.md'
        text = doc.read_text()
        head, sep, rest = text.partition('<!-- runner -->')
        if not sep: raise SystemExit("docs/benchmarks.md has no '<!-- runner -->' marker")
        tail = rest.split('<!-- /runner -->', 1)[1] if '<!-- /runner -->' in rest else ''
        from semseg_gan.core import atomic_write
        new = head + '<!-- runner -->\n' + '\n'.join(lines) + '\n<!-- /runner -->' + tail
        atomic_write(doc, lambda f: f.write(new.encode()))
        print(f"wrote {doc}")

if __name__ == '__main__': main()
