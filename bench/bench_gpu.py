"""The training-step table on a GPU, with bf16 autocast and channels-last: one prepared run for the `device` tool
(under 5 minutes on an H100/H200). Prints step time per variant, images/s, and achieved TFLOP/s against the card's
bf16 matmul rate measured in the same run.

    python bench/bench_gpu.py            # writes nothing; copy the table into docs/benchmarks.md
    python bench/bench_gpu.py --smoke    # the same code on the CPU at 64 px, a few steps: checks the script runs
"""
import argparse, statistics, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_cpu as b
from semseg_gan.core import set_seed
from semseg_gan.data import semantic_dls
from semseg_gan.samples import sample_facades
from semseg_gan.gan import VARIANTS

def sync(device):
    if device == 'cuda': torch.cuda.synchronize()

def matmul_tflops(device, n=8192, reps=20, dtype=torch.bfloat16):
    a, c = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3): a @ c
    sync(device); t0 = time.perf_counter()
    for _ in range(reps): a @ c
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e12

class SyncStepTimer(b.StepTimer):
    "bench_cpu's per-iteration timer, waiting for the GPU's queued work before each stamp."
    def __init__(self, device, warmup, n): super().__init__(warmup, n); self.device = device
    def before_batch(self):
        if self.training: sync(self.device)
        super().before_batch()

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--smoke', action='store_true', help='run on the CPU, 64 px, few steps')
    a = ap.parse_args()
    if not a.smoke and not torch.cuda.is_available():
        sys.exit('no CUDA GPU here: run this on a GPU machine (or --smoke to check the script on the CPU)')
    device = 'cpu' if a.smoke else 'cuda'
    torch.backends.cudnn.benchmark = True
    print(torch.cuda.get_device_name() if device == 'cuda' else 'CPU (smoke test)', 'torch', torch.__version__)
    rate = matmul_tflops(device, n=512 if a.smoke else 8192, reps=3 if a.smoke else 20)
    print(f'bf16 matmul: {rate:.1f} TFLOP/s measured')
    warmup, n = (1, 2) if a.smoke else (5, 20)
    preset, shapes = ('tiny', ((64, 1), (64, 4))) if a.smoke else ('paper', ((256, 1), (256, 16)))
    print('| size | batch | precision | variant | step (ms) | ratio to pix2pix | images/s | TFLOP/step | achieved TFLOP/s | % of bf16 matmul |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for size, bs in shapes:
        for precision, cl in (('fp32', False), ('bf16', True)):
            base = None
            for variant in VARIANTS:
                set_seed(0)
                dls = semantic_dls(sample_facades(), preset, bs=bs, seed=0, device=device)
                learn = b.learner(variant, dls, precision=precision, channels_last=cl)
                timer = SyncStepTimer(device, warmup, n)
                with learn.no_bar(), learn.no_logging(): learn.fit(1000, cbs=timer)
                t = statistics.median(timer.times[warmup:])
                fl = b.step_flops(learn) / 1e12
                base = base or t
                print(f'| {size} | {bs} | {precision}{"+CL" if cl else ""} | {variant} | {1000 * t:.1f} | {t / base:.2f} | '
                      f'{bs / t:.0f} | {fl:.3f} | {fl / t:.1f} | {100 * fl / t / rate:.1f}% |', flush=True)

if __name__ == '__main__': main()
