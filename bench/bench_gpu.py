"""The training-step table on a GPU, with bf16 autocast and channels-last: one prepared run for the `device` tool
(under 5 minutes on an H100/H200). Prints step time per variant, images/s, and achieved TFLOP/s against the card's
bf16 matmul rate measured in the same run.

    python bench/bench_gpu.py            # writes nothing; copy the table into docs/benchmarks.md
"""
import statistics, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_cpu as b
from semseg_gan.core import set_seed
from semseg_gan.data import sample_facades, semantic_dls
from semseg_gan.gan import VARIANTS

def matmul_tflops(n=8192, reps=20, dtype=torch.bfloat16):
    a, c = torch.randn(n, n, device='cuda', dtype=dtype), torch.randn(n, n, device='cuda', dtype=dtype)
    for _ in range(3): a @ c
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(reps): a @ c
    e.record(); torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (s.elapsed_time(e) / 1000) / 1e12

class CudaStepTimer(b.StepTimer):
    def before_batch(self): torch.cuda.synchronize(); self.t0 = time.perf_counter()
    def after_batch(self):
        torch.cuda.synchronize(); super().after_batch()

def main():
    assert torch.cuda.is_available(), 'this script needs a GPU'
    torch.backends.cudnn.benchmark = True
    print(torch.cuda.get_device_name(), 'torch', torch.__version__)
    rate = matmul_tflops()
    print(f'bf16 matmul (8192²): {rate:.0f} TFLOP/s measured')
    print('| size | batch | precision | variant | step (ms) | ratio to pix2pix | images/s | TFLOP/step | achieved TFLOP/s | % of bf16 matmul |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for size, bs in ((256, 1), (256, 16)):
        for precision, cl in (('fp32', False), ('bf16', True)):
            base = None
            for variant in VARIANTS:
                set_seed(0)
                dls = semantic_dls(sample_facades(), 'paper', bs=bs, seed=0, device='cuda')
                learn = b.learner(variant, dls, precision=precision, channels_last=cl)
                timer = CudaStepTimer(5, 20)
                with learn.no_bar(), learn.no_logging(): learn.fit(1000, cbs=timer)
                t = statistics.median(timer.times[5:])
                fl = b.step_flops(learn) / 1e12
                base = base or t
                print(f'| {size} | {bs} | {precision}{"+CL" if cl else ""} | {variant} | {1000 * t:.1f} | {t / base:.2f} | '
                      f'{bs / t:.0f} | {fl:.3f} | {fl / t:.1f} | {100 * fl / t / rate:.1f}% |', flush=True)

if __name__ == '__main__': main()
