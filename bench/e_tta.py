"""Issue 12: can test-time augmentation lift the real-facades evaluator E to 0.45 mIoU on CMP's test photos?

Scores a kept segmenter (a file under models_dir()) on the 76 real test photos at its own preset (`--preset` to choose
another), as the real-facades grid would use it, plain and with flips and rescaled copies whose softmax outputs are
averaged, and writes the per-class IoU of each to a JSON file (`benchmark.iou_counts` / `iou_from_counts`, as the grid
scores). `--from_preset cpu` first makes each photo at that preset and resizes it up to E's, as 128 px generated images
would reach a 256 px evaluator: it measures what that route costs E on real photos.

    python bench/e_tta.py facades_E_unet_w32_d5_aug_cb05_cpu_e60.pth --json nbs/results/real_E_tta.json
    python bench/e_tta.py facades_E_unet_w32_d5_aug_paper_e60.pth --configs plain --from_preset cpu
"""
import argparse, json, sys
import numpy as np
import torch, torch.nn.functional as F
from semseg_gan.core import labels_from_one_hot, atomic_write
from semseg_gan.data import facades, PRESETS
from semseg_gan.segmenters import load_segmenter, models_dir
from semseg_gan.ablation import test_set, _git_commit
from semseg_gan.benchmark import iou_counts, iou_from_counts

CONFIGS = {'plain': dict(), 'flip': dict(flip=True), 'flip, scales 0.75/1/1.25': dict(flip=True, scales=(0.75, 1., 1.25)),
           'flip, scales 1/1.5': dict(flip=True, scales=(1., 1.5)), 'flip, scales 0.75/1/1.25/1.5': dict(flip=True, scales=(0.75, 1., 1.25, 1.5))}

@torch.no_grad()
def probabilities(E, x, scales=(1.,), flip=False):
    "Mean softmax of E over the rescaled (and flipped) copies of x, at x's size."
    out = 0
    for sc in scales:
        xs = x if sc == 1 else F.interpolate(x, scale_factor=sc, mode='bilinear', align_corners=False)
        for fl in ([False, True] if flip else [False]):
            o = E(xs.flip(-1) if fl else xs)
            o = o.flip(-1) if fl else o
            if sc != 1: o = F.interpolate(o, size=x.shape[-2:], mode='bilinear', align_corners=False)
            out = out + o.softmax(1)
    return out

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('model'); ap.add_argument('--json')
    ap.add_argument('--preset', help="the size E reads (default: the preset E was trained at, else 'cpu')")
    ap.add_argument('--from_preset', help='make each photo at this preset first, then resize it up to --preset')
    ap.add_argument('--configs', default=','.join(CONFIGS), help=f"comma-separated, of: {', '.join(CONFIGS)}")
    a = ap.parse_args()
    configs = [c.strip() for c in a.configs.split(',')]
    if bad := [c for c in configs if c not in CONFIGS]: sys.exit(f"--configs: unknown {bad}; choose from {list(CONFIGS)}")
    torch.set_num_threads(1)
    E, rec = load_segmenter(models_dir()/a.model)
    preset = a.preset or (rec.get('preset') if rec.get('preset') in PRESETS else 'cpu')
    data = facades(); s, y = test_set(data, preset); lab = labels_from_one_hot(s); K = data.n_classes
    if a.from_preset:   # the photos at the smaller size, resized up as a generated image would be
        y = F.interpolate(test_set(data, a.from_preset)[1], size=y.shape[-2:], mode='bilinear', align_corners=False)
    res = dict(command='python bench/e_tta.py ' + ' '.join(sys.argv[1:]), git=_git_commit(), model=a.model, preset=preset, from_preset=a.from_preset,
               settings={k: rec.get(k) for k in ('arch', 'arch_kwargs', 'preset', 'epochs', 'seed', 'augment', 'class_balance', 'train_seconds', 'resumed_at_epoch')},
               valid_miou=rec['valid_scores']['mean_iou'], n_test=len(y), classes=list(data.classes), scores={})
    for name, cfg in ((c, CONFIGS[c]) for c in configs):
        iou = iou_from_counts(*iou_counts(lambda x: probabilities(E, x, **cfg), y, lab, K, bs=8))
        res['scores'][name] = dict(mean_iou=float(np.nanmean(iou)), per_class_iou=[round(float(v), 4) for v in iou])
        print(f"{name:30s} test mIoU {np.nanmean(iou):.3f}", flush=True)
    if a.json: atomic_write(a.json, lambda f: f.write(json.dumps(res, indent=1).encode()))

if __name__ == '__main__': main()
