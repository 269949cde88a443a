"""What the semantic discriminator costs in training, and proof that it costs nothing at inference.

Prints tables (and writes them to docs/benchmarks.md with --write): training-step time per variant (median of
many steps after warm-up, the variants measured in alternating turns of the same run, so the ratios compare like
with like), achieved GFLOP/s against this machine's measured float32 matmul and 3×3 convolution rates, what a
narrower T_s saves, fastai's overhead against a plain PyTorch loop doing the same computation, generator latency
and peak memory per variant, peak memory of a training step, and the data pipeline's throughput against what a
step consumes.

    python bench/bench_cpu.py                 # all tables, ~15 min on 2 cores
    python bench/bench_cpu.py --quick --sizes 64   # fewer steps, small images: a 2-minute check of the numbers' shape
    python bench/bench_cpu.py --smoke --sizes 64   # one step per measurement: the scripts still run (CI); no number means anything
    python bench/bench_cpu.py --write         # also rewrite docs/benchmarks.md
"""
import argparse, os, platform, statistics, subprocess, sys, tempfile, time
from typing import NamedTuple
from functools import partial
from pathlib import Path
import torch
from torch.utils.flop_counter import FlopCounterMode
from semseg_gan.core import *
from semseg_gan.data import semantic_dls
from semseg_gan.samples import sample_facades
from semseg_gan.segmenters import SegUNet
from semseg_gan.semantic_loss import SemanticPerceptualLoss
from semseg_gan.gan import semseg_gan_learner, VARIANTS, pix2pix_adam, cgan_step, export_generator, load_generator
from fastai.callback.core import Callback, CancelFitException

ROOT = Path(__file__).resolve().parent.parent

def d_step_time(semantic, size, reps, K=12):
    "One discriminator forward + loss + backward at `size`, batch 1: the plain PatchGAN or the semantic D (with its weights)."
    from semseg_gan.models import PatchDiscriminator
    from semseg_gan.semantic_discriminator import SemanticPatchDiscriminator, semantic_weights, adversarial_loss
    torch.manual_seed(0)
    D = SemanticPatchDiscriminator(K) if semantic else PatchDiscriminator(K + 3)
    s = one_hot(torch.randint(0, K, (1, size, size)), K).float(); x = torch.rand(1, 3, size, size) * 2 - 1
    def step():
        d = D(torch.cat([s, x], 1))
        w = semantic_weights(s, d) if semantic else None   # the weights are part of the semantic D's cost
        adversarial_loss(d, True, w)[0].backward(); D.zero_grad()
    for _ in range(3): step()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); step(); t.append(time.perf_counter() - t0)
    return statistics.median(t)

def matmul_gflops(n=2048, reps=10):
    "This machine's float32 matmul rate (GFLOP/s), the ceiling the training step is compared with."
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3): a @ b
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); a @ b; t.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(t) / 1e9

def conv_gflops(reps=8):
    """The best rate of a large float32 3×3 convolution here (GFLOP/s): the kernels (oneDNN) a training step runs on.
    On a CPU whose BLAS is not tuned for it (MKL on AMD), this is well above the matmul rate, so it is the real ceiling."""
    import torch.nn.functional as F
    best = 0.
    for C, H in ((256, 64), (128, 128)):
        x, w = torch.randn(1, C, H, H), torch.randn(C, C, 3, 3)
        for _ in range(3): F.conv2d(x, w, padding=1)
        t = []
        for _ in range(reps):
            t0 = time.perf_counter(); F.conv2d(x, w, padding=1); t.append(time.perf_counter() - t0)
        best = max(best, 2 * 9 * C * C * H * H / statistics.median(t) / 1e9)
    return best

def dls_for(size, bs):
    preset = {256: 'paper', 128: 'cpu', 64: 'tiny'}[size]
    return semantic_dls(sample_facades(), preset, bs=bs, seed=0)

def learner(variant, dls, ts_width=32, ts_fast=True, **kw):
    "A learner of the benchmark; `ts_fast=False` runs L_s on T_s itself instead of its folded channels-last copy."
    T_s = SegUNet(dls.n_classes, width=ts_width)   # timing does not depend on T_s's weights; an untrained one costs the same
    learn = semseg_gan_learner(dls, variant, T_s=T_s, path='/tmp/semseg_gan_bench', batch_log=False, **kw)
    if learn.loss_func.L_s is not None: learn.loss_func.L_s.fast = ts_fast
    return learn

class StepTimer(Callback):
    "Times each training iteration (one `before_batch` to the next: loading, callbacks, D and G steps) and stops after `n` timed steps."
    order = -100   # first: the stamp is taken before any other callback's work on the batch
    def __init__(self, warmup, n): self.warmup, self.n, self.times, self.last = warmup, n, [], None
    def before_epoch(self): self.last = None   # an epoch boundary (validation, checkpoint) is not a step
    def before_batch(self):
        if not self.training: return
        now = time.perf_counter()
        if self.last is not None: self.times.append(now - self.last)
        self.last = now
        if len(self.times) >= self.warmup + self.n: raise CancelFitException()

def rotations(keys, rounds):
    "The order of each round: rotated, so that no key is always first (the first turn after a switch is the coldest)."
    keys = list(keys)
    return [keys[r % len(keys):] + keys[:r % len(keys)] for r in range(rounds)]

def fastai_turn(learn, warmup, n):
    "One turn: a fastai `fit` of warmup + n steps; the n step times."
    timer = StepTimer(warmup, n)
    with learn.no_bar(), learn.no_logging(): learn.fit(1000, cbs=timer)
    return timer.times[warmup:]

class PlainLoop:
    "The same models, losses and batches in a plain PyTorch loop around `cgan_step` (the fastai callback's own step)."
    def __init__(self, learn):
        self.m, self.lf, self.dl = learn.model, learn.loss_func, learn.dls.train
        self.opt_G = pix2pix_adam(self.m.G.parameters())     # the same optimizer as the learner's
        self.opt_D = pix2pix_adam(self.m.D.parameters())
    def turn(self, warmup, n):
        "One turn of warmup + n steps (one pass over the data at most, like a fastai turn); the n step times."
        m, lf = self.m, self.lf
        m.train(); times = []   # cgan_step leaves D frozen (requires_grad False) after each step; unfrozen below
        it = iter(self.dl)
        for i in range(warmup + n):
            t0 = time.perf_counter()   # like the fastai timer: from one iteration's start to the next, loading included
            try: s, y = next(it)
            except StopIteration: it = iter(self.dl); t0 = time.perf_counter(); s, y = next(it)   # not across a new epoch
            cgan_step(m, lf, self.opt_G, self.opt_D, s.as_subclass(torch.Tensor), y.as_subclass(torch.Tensor))
            times.append(time.perf_counter() - t0)
        m.D.requires_grad_(True)
        return times[warmup:]

class Timed(NamedTuple):
    median: float   # median step time over every timed step
    turns: list     # the median of each turn: their spread is this measurement's noise

def interleaved(turns:dict, warmup, n, rounds=5) -> dict:
    """Step times of each entry of `turns` (name -> function(warmup, n) -> step times), measured in `rounds`
    alternating turns of n // rounds steps, so that a change in the machine's load or state hits all alike."""
    times, per_turn = {k: [] for k in turns}, {k: [] for k in turns}
    for r, order in enumerate(rotations(turns, rounds)):
        for k in order:
            t = turns[k](warmup if r == 0 else 1, max(1, n // rounds))
            times[k] += t; per_turn[k].append(statistics.median(t))
    return {k: Timed(statistics.median(times[k]), per_turn[k]) for k in turns}

def ratio(a:Timed, b:Timed) -> str:
    "a / b of the medians, and in brackets the lowest and highest ratio of one turn: how far one reading can be trusted."
    r = [x / y for x, y in zip(a.turns, b.turns)]
    return f"{a.median / b.median:.2f} ({min(r):.2f}–{max(r):.2f})"

EFFORT = {   # steps per measurement: --smoke checks that every table is made, --quick is a first look, the default is for --write
    'smoke': dict(warmup=1, n=1, d_reps=5, g_warmup=1, g_n=5, rss_runs=1, loader_batches=5),
    'quick': dict(warmup=2, n=5, d_reps=10, g_warmup=3, g_n=10, rss_runs=3, loader_batches=20),
    'full':  dict(warmup=5, n=25, d_reps=40, g_warmup=3, g_n=50, rss_runs=3, loader_batches=60)}

def learners_for(variants, size, bs, **kw):
    out = {}
    for v in variants:
        set_seed(0); out[v] = learner(v, dls_for(size, bs), **kw)
    return out

def step_flops(learn):
    "FLOPs of one training step (G forward, D step, G loss and backward), counted by PyTorch's FlopCounterMode."
    m, lf = learn.model, learn.loss_func
    s, y = [t.as_subclass(torch.Tensor) for t in learn.dls.one_batch()]
    lf.s = s
    with FlopCounterMode(display=False) as fc:
        y_hat = m.G(s)
        lf.discriminator_loss(y_hat, y).backward()
        m.D.requires_grad_(False); lf(y_hat, y).backward(); m.D.requires_grad_(True)
    m.zero_grad()
    return fc.get_total_flops()

def ts_flops(size, width, K=12, at=None, depth=4):
    "GFLOP of one L_s call with a SegUNet T_s of this width and depth (run at size `at`): T_s forward on y, forward and input-gradient backward on ŷ."
    L = SemanticPerceptualLoss(SegUNet(K, width=width, depth=depth), size=at)
    y_hat, y = torch.rand(1, 3, size, size, requires_grad=True), torch.rand(1, 3, size, size)
    with FlopCounterMode(display=False) as fc: L(y_hat, y).backward()
    return fc.get_total_flops() / 1e9

def g_latency_turn(G, size):
    "A turn function for `interleaved`: `warmup` untimed generator calls, then `n` timed ones (batch 1, eval mode, no grad)."
    s = one_hot(torch.randint(0, 12, (1, size, size)), 12)
    def turn(warmup, n):
        t = []
        with torch.no_grad():
            for i in range(warmup + n):
                t0 = time.perf_counter(); G(s); t.append(time.perf_counter() - t0)
        return t[warmup:]
    return turn

_PROBE = """
import sys, torch
sys.path.insert(0, {bench!r})
import bench_cpu as b
def mib(key):   # this process's resident memory now (VmRSS) or at its peak (VmHWM), in MiB
    for line in open('/proc/self/status'):
        if line.startswith(key + ':'): return int(line.split()[1]) / 1024
def reset_peak(): open('/proc/self/clear_refs', 'w').write('5')   # VmHWM := VmRSS (Linux >= 4.0)
"""

def peak_rss_subprocess(what, variant, size, bs, G_path=None):
    """Peak resident memory (MiB) of a fresh process doing one thing, and the part of it the work itself added.

    'infer': load an exported generator (`G_path`) and run it; 'train': build the learner and run 3 training steps.
    The peak is the process's VmHWM; the work's share is VmHWM after the work minus VmRSS just before it, with the
    high-water mark reset in between. (`ru_maxrss` cannot be used: Linux keeps it across fork and exec, so a child
    of a big process reports its parent's peak.)"""
    if sys.platform != 'linux': raise RuntimeError("peak memory is read from /proc/self/status, which needs Linux")
    code = _PROBE.format(bench=str(ROOT/'bench')) + f"""
from semseg_gan.core import one_hot
if {what!r} == 'infer':
    from semseg_gan.gan import load_generator
    G, _ = load_generator({str(G_path)!r})
    s = one_hot(torch.randint(0, 12, (1, {size}, {size})), 12)
    base = mib('VmRSS'); reset_peak()
    with torch.no_grad(): G(s); G(s)
else:
    learn = b.learner({variant!r}, b.dls_for({size}, {bs}))
    base = mib('VmRSS'); reset_peak()
    with learn.no_bar(), learn.no_logging(): learn.fit(100, cbs=b.StepTimer(1, 2))
print(mib('VmHWM'), base)
"""
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    if r.returncode: raise RuntimeError(f"memory probe failed:\n{r.stderr[-2000:]}")
    peak, base = map(float, r.stdout.split()[-2:])
    return peak, peak - base

def loader_throughput(size, bs, n=50):
    dls = dls_for(size, bs)
    it = iter(dls.train); next(it)
    t0 = time.perf_counter(); k = 0
    while k < n:
        try: next(it)
        except StopIteration: it = iter(dls.train); continue
        k += 1
    return n * bs / (time.perf_counter() - t0)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true'); ap.add_argument('--write', action='store_true')
    ap.add_argument('--smoke', action='store_true', help='one step per measurement: checks that every table is made, measures nothing')
    ap.add_argument('--sizes', default='256,128')
    ap.add_argument('--steps', type=int, default=None, help='timed steps per measurement (default 25, 5 with --quick)')
    a = ap.parse_args()
    if a.smoke and a.write: ap.error('--smoke measures nothing: it cannot --write')
    e = EFFORT['smoke' if a.smoke else 'quick' if a.quick else 'full']
    warmup, n = e['warmup'], a.steps or e['n']
    torch.set_num_threads(os.cpu_count())
    rate, crate = matmul_gflops(), conv_gflops()
    lines = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads; measured in this run: float32 matmul (2048², {torch.backends.mkl.is_available() and 'MKL' or 'BLAS'}) "
             f"**{rate:.0f} GFLOP/s**, float32 3×3 convolution (oneDNN, 128-256 channels) **{crate:.0f} GFLOP/s**.",
             "", f"Run: `python bench/bench_cpu.py {' '.join(sys.argv[1:])}` on {time.strftime('%Y-%m-%d')}, "
             f"{warmup} warm-up + {n} timed steps per measurement, taken in 5 alternating turns of the things compared; "
             f"a ratio's range in brackets is the lowest and highest ratio of one turn, the noise of that reading.", ""]
    print(lines[0])
    # 0. the discriminator alone
    lines += ["## The discriminator alone: one forward + loss + backward (batch 1)", "",
              "| size | PatchGAN (ms) | semantic D (ms) | ratio (range over turns) |", "|---|---|---|---|"]
    for size in [int(x) for x in a.sizes.split(',')]:
        reps = e['d_reps']
        # interleave the two, so that a change in machine load hits both alike
        tp, ts = zip(*[(d_step_time(False, size, reps // 5), d_step_time(True, size, reps // 5)) for _ in range(5)])
        tp, ts = Timed(statistics.median(tp), list(tp)), Timed(statistics.median(ts), list(ts))
        row = f"| {size} | {1000 * tp.median:.1f} | {1000 * ts.median:.1f} | {ratio(ts, tp)} |"
        print(row); lines.append(row)
    lines.append("")
    # 1. training step per variant
    lines += ["## Training step time per variant (CPU, fp32)", "",
              "| size | batch | variant | step (s, median) | ratio to pix2pix (range over turns) | GFLOP/step | achieved GFLOP/s | % of matmul rate | % of conv rate |",
              "|---|---|---|---|---|---|---|---|---|"]
    results, G_files = {}, {}
    tmp = Path(tempfile.mkdtemp())
    for size in [int(x) for x in a.sizes.split(',')]:
        for bs in (1, 4):
            learns = learners_for(VARIANTS, size, bs)
            step = interleaved({v: partial(fastai_turn, l) for v, l in learns.items()}, warmup, n)
            for variant, learn in learns.items():
                t, fl = step[variant].median, step_flops(learn) / 1e9
                results[(size, bs, variant)] = (t, fl)
                if bs == 1: G_files[(size, variant)] = export_generator(learn, tmp/f'G_{variant}_{size}.pth')   # for inference
                row = f"| {size} | {bs} | {variant} | {t:.3f} | {ratio(step[variant], step['pix2pix'])} | {fl:.1f} | {fl / t:.0f} | {100 * fl / t / rate:.0f}% | {100 * fl / t / crate:.0f}% |"
                print(row); lines.append(row)
            del learns   # keep no learner alive longer than needed: this process's memory stays small
    # 1b. the cost of T_s: folded or not, narrower, or run at a lower resolution
    lines += ["", "## The cost of $T_s$: `full` with cheaper ways of running it (batch 1)", "",
              "| size | T_s | T_s GFLOP per L_s call (fwd real + fwd/bwd fake) | step (s) | ratio to pix2pix (range over turns) |", "|---|---|---|---|---|"]
    for size in [int(x) for x in a.sizes.split(',')]:
        configs = {'SegUNet 32, as trained (BatchNorm, NCHW)': dict(ts_width=32, ts_fast=False),
                   'SegUNet 32, folded, channels-last (default)': dict(ts_width=32),
                   'SegUNet 24, folded, channels-last': dict(ts_width=24),
                   'SegUNet 16, folded, channels-last': dict(ts_width=16)}
        if size > 128: configs['SegUNet 32, folded, run at 128 px'] = dict(ts_width=32, perceptual_size=128)
        learns = {'pix2pix': learners_for(['pix2pix'], size, 1)['pix2pix'],
                  **{k: learners_for(['full'], size, 1, **c)['full'] for k, c in configs.items()}}
        step = interleaved({k: partial(fastai_turn, l) for k, l in learns.items()}, warmup, n)
        for k, c in {'pix2pix (no T_s)': None, **configs}.items():
            fl = '–' if c is None else f"{ts_flops(size, c['ts_width'], at=c.get('perceptual_size')):.1f}"
            t = step['pix2pix' if c is None else k]
            row = f"| {size} | {k} | {fl} | {t.median:.3f} | {ratio(t, step['pix2pix'])} |"
            print(row); lines.append(row)
        del learns
    # 2. fastai overhead
    lines += ["", "## fastai against a plain PyTorch loop (same models, losses, batches; batch 1)", "",
              "| size | variant | fastai step (s) | plain loop step (s) | fastai overhead |", "|---|---|---|---|---|"]
    for size in [int(x) for x in a.sizes.split(',')]:
        for variant in ('pix2pix', 'full'):
            learn = learners_for([variant], size, 1)[variant]
            step = interleaved({'fastai': partial(fastai_turn, learn), 'plain': PlainLoop(learn).turn}, warmup, n)
            t_fa, t_pl = step['fastai'], step['plain']; del learn
            row = f"| {size} | {variant} | {t_fa.median:.3f} | {t_pl.median:.3f} | {100 * (t_fa.median / t_pl.median - 1):+.1f}% |"
            print(row); lines.append(row)
    # 3. inference: the generator is the same network in every variant
    lines += ["", "## Generator inference (batch 1): the paper's \"no overhead\" claim", "",
              "| size | variant | G latency (ms, median) | ratio to pix2pix (range over turns) | peak RSS of a G-only process (MiB) | of which the forward pass (MiB) | ratio |",
              "|---|---|---|---|---|---|---|"]
    for size in [int(x) for x in a.sizes.split(',')]:
        base_m = None
        Gs = {v: load_generator(G_files[(size, v)])[0] for v in VARIANTS}
        latency = interleaved({v: g_latency_turn(G, size) for v, G in Gs.items()}, e['g_warmup'], e['g_n'])
        for variant in VARIANTS:
            t = latency[variant].median
            # three fresh processes, the median: the allocator makes single readings vary by a few MiB
            peak, work = map(statistics.median, zip(*[peak_rss_subprocess('infer', variant, size, 1, G_files[(size, variant)])
                                                      for _ in range(e['rss_runs'])]))
            base_m = base_m or work
            row = f"| {size} | {variant} | {1000 * t:.1f} | {ratio(latency[variant], latency['pix2pix'])} | {peak:.0f} | {work:.0f} | {work / base_m:.2f} |"
            print(row); lines.append(row)
    # 4. training memory
    lines += ["", "## Peak memory of training (batch 1, fresh process per variant)", "",
              "| size | variant | peak RSS (MiB) | of which the training steps (MiB) | ratio to pix2pix |", "|---|---|---|---|---|"]
    for size in [int(x) for x in a.sizes.split(',')]:
        base_m = None
        for variant in VARIANTS:
            peak, work = peak_rss_subprocess('train', variant, size, 1)
            base_m = base_m or work
            row = f"| {size} | {variant} | {peak:.0f} | {work:.0f} | {work / base_m:.2f} |"
            print(row); lines.append(row)
    # 5. data pipeline
    lines += ["", "## Data pipeline (default: num_workers=0, loading in the training process)", "",
              "| size | batch | loader images/s | images/s a pix2pix step consumes | loader share of a step |", "|---|---|---|---|---|"]
    for size in [int(x) for x in a.sizes.split(',')]:
        for bs in (1, 4):
            ips = loader_throughput(size, bs, e['loader_batches'])
            need = bs / results[(size, bs, 'pix2pix')][0]
            row = f"| {size} | {bs} | {ips:.0f} | {need:.1f} | {100 * need / ips:.1f}% |"
            print(row); lines.append(row)
    if a.write:
        doc = ROOT/'docs'/'benchmarks.md'
        head = doc.read_text().split('<!-- tables -->')[0] if doc.exists() else ''
        text = head + '<!-- tables -->\n' + '\n'.join(lines) + '\n'
        atomic_write(doc, lambda f: f.write(text.encode()))
        print(f"wrote {doc}")

if __name__ == '__main__': main()
