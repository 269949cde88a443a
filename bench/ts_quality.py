"""How good is a cheaper T_s? Train a SegUNet of the given width and depth on CMP Facades as the ablation trains its
T_s in its CPU run (cpu preset, 40 epochs, batch 8, seed 0), optionally with `SegAugment`, and print its validation mIoU, pixel
accuracy, training time, and what one semantic-perceptual-loss call costs with it (GFLOP at 128 and 256 px: a forward
pass on y, one on ŷ, the backward pass to ŷ).

The speed side of the trade-off is in bench_cpu.py ("The cost of T_s"); this script is the quality side. It reads
the data root from $SEMSEG_GAN_DATA and writes nothing to the repository (`--json` writes one result file elsewhere).

    SEMSEG_GAN_DATA=../shared/data python bench/ts_quality.py --width 16     # ~6 min on 2 cores (width 32: ~17 min)
    SEMSEG_GAN_DATA=../shared/data python bench/ts_quality.py --width 24 --augment --threads 1 --json /tmp/ts24.json
"""
import argparse, json
import torch
from semseg_gan.data import facades
from semseg_gan.segmenters import train_segmenter
from bench_cpu import ts_flops   # the same count as bench_cpu's T_s table (this folder is on sys.path when run as a script)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--width', type=int, default=16, help="SegUNet width (the default T_s has 32)")
    ap.add_argument('--depth', type=int, default=4, help="SegUNet depth (the default T_s has 4)")
    ap.add_argument('--epochs', type=int, default=40)
    ap.add_argument('--augment', action='store_true', help="train with SegAugment (the default T_s is trained without)")
    ap.add_argument('--threads', type=int, default=0, help="torch threads (0: PyTorch's default)")
    ap.add_argument('--json', default=None, help="also write the result to this file")
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    data = facades()
    kw = dict(width=a.width, depth=a.depth)
    _, rec = train_segmenter(data, 'unet', 'cpu', a.epochs, bs=8, seed=0, quiet=True, augment=a.augment, **kw)
    sc = rec['valid_scores']
    g = {s: round(ts_flops(s, a.width, data.n_classes, depth=a.depth), 1) for s in (128, 256)}
    print(f"SegUNet width {a.width}, depth {a.depth}{', augmented' if a.augment else ''}: val mIoU {sc['mean_iou']:.3f}, "
          f"pixel acc {sc['pixel_acc']:.3f}, trained in {rec['train_seconds']:.0f} s ({a.epochs} epochs, cpu preset, seed 0); "
          f"one L_s call: {g[128]} GFLOP at 128, {g[256]} at 256")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(width=a.width, depth=a.depth, epochs=a.epochs, augment=a.augment,
                                                    val_miou=sc['mean_iou'], pixel_acc=sc['pixel_acc'], per_class_iou=sc['per_class_iou'],
                                                    train_seconds=rec['train_seconds'], gflop=g), f, indent=1)

if __name__ == '__main__': main()
