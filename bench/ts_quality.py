"""How good is a narrower T_s? Train a SegUNet of the given width on CMP Facades exactly as the ablation trains its
T_s (cpu preset, 40 epochs, batch 8, seed 0) and print its validation mIoU, pixel accuracy and training time.

The speed side of the trade-off is in bench_cpu.py ("The cost of T_s"); this script is the quality side. It reads
the data root from $SEMSEG_GAN_DATA and writes nothing to the repository.

    SEMSEG_GAN_DATA=../shared/data python bench/ts_quality.py --width 16     # ~6 min on 2 cores (width 32: ~17 min)
"""
import argparse
from semseg_gan.data import facades
from semseg_gan.segmenters import train_segmenter

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--width', type=int, default=16, help="SegUNet width (the default T_s has 32)")
    ap.add_argument('--epochs', type=int, default=40)
    a = ap.parse_args()
    _, rec = train_segmenter(facades(), 'unet', 'cpu', a.epochs, bs=8, seed=0, quiet=True, width=a.width)
    sc = rec['valid_scores']
    print(f"SegUNet width {a.width}: val mIoU {sc['mean_iou']:.3f}, pixel acc {sc['pixel_acc']:.3f}, "
          f"trained in {rec['train_seconds']:.0f} s ({a.epochs} epochs, cpu preset, seed 0)")

if __name__ == '__main__': main()
