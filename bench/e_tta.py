"""Issue 12: can test-time augmentation lift the real-facades evaluator E to 0.45 mIoU on CMP's test photos?

Scores a kept segmenter (a file under models_dir()), or the ensemble of several (`segmenters.SegEnsemble`), on the 76 real test photos at its own preset (`--preset` to choose
another), as the real-facades grid would use it, plain and with flips and rescaled copies whose softmax outputs are
averaged, and writes the per-class IoU of each to a JSON file (`benchmark.iou_counts` / `iou_from_counts`, as the grid
scores). `--from_preset cpu` first makes each photo at that preset and resizes it up to E's, as 128 px generated images
would reach a 256 px evaluator: it measures what that route costs E on real photos.

    python bench/e_tta.py facades_E_unet_w32_d5_aug_cb05_cpu_e60.pth --json nbs/results/real_E_tta.json
    python bench/e_tta.py facades_E_unet_w32_d5_aug_paper_e60.pth --configs plain --from_preset cpu
    python bench/e_tta.py benchmark_v1_E_unet_width32_depth5_aug_cb0.5_cpu_e60_s{1,2}_ae6cdb94.pth --configs 'plain; flip, scales 0.75/1/1.25/1.5'
"""
import argparse, json, sys
import numpy as np
import torch, torch.nn.functional as F
from semseg_gan.core import labels_from_one_hot, atomic_write
from semseg_gan.data import facades, PRESETS
from semseg_gan.segmenters import load_segmenter, models_dir, SegEnsemble
from semseg_gan.ablation import test_set, _git_commit
from semseg_gan.benchmark import iou_counts, iou_from_counts, REAL_E

CONFIGS = {'plain': dict(), 'flip': dict(flip=True), 'flip, scales 0.75/1/1.25': dict(flip=True, scales=(0.75, 1., 1.25)),
           'flip, scales 1/1.5': dict(flip=True, scales=(1., 1.5)), 'flip, scales 0.75/1/1.25/1.5': REAL_E['tta']}

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('model', nargs='+', help='one kept segmenter, or several for an ensemble'); ap.add_argument('--json')
    ap.add_argument('--preset', help="the size E reads (default: the preset E was trained at, else 'cpu')")
    ap.add_argument('--from_preset', help='make each photo at this preset first, then resize it up to --preset')
    ap.add_argument('--configs', default='; '.join(CONFIGS), help=f"separated by ';', of: {'; '.join(CONFIGS)}")
    a = ap.parse_args()
    configs = [c.strip() for c in a.configs.split(';')]
    if bad := [c for c in configs if c not in CONFIGS]: sys.exit(f"--configs: unknown {bad}; choose from {list(CONFIGS)}")
    torch.set_num_threads(1)
    Es, recs = zip(*(load_segmenter(models_dir()/m) for m in a.model)); rec = recs[0]
    if len({r.get('preset') for r in recs}) > 1: sys.exit(f"the models were trained at different presets {[r.get('preset') for r in recs]}: score them apart")
    preset = a.preset or (rec.get('preset') if rec.get('preset') in PRESETS else 'cpu')
    data = facades(); s, y = test_set(data, preset); lab = labels_from_one_hot(s); K = data.n_classes
    if a.from_preset:   # the photos at the smaller size, resized up as a generated image would be
        y = F.interpolate(test_set(data, a.from_preset)[1], size=y.shape[-2:], mode='bilinear', align_corners=False)
    res = dict(command='python bench/e_tta.py ' + ' '.join(sys.argv[1:]), git=_git_commit(), models=a.model, preset=preset, from_preset=a.from_preset,
               settings=[{k: r.get(k) for k in ('arch', 'arch_kwargs', 'preset', 'epochs', 'seed', 'augment', 'class_balance', 'train_seconds', 'resumed_at_epoch')} for r in recs],
               valid_miou=[r['valid_scores']['mean_iou'] for r in recs], n_test=len(y), classes=list(data.classes), scores={})
    for name, cfg in ((c, CONFIGS[c]) for c in configs):
        iou = iou_from_counts(*iou_counts(SegEnsemble(Es, **cfg), y, lab, K, bs=8))
        res['scores'][name] = dict(mean_iou=float(np.nanmean(iou)), per_class_iou=[round(float(v), 4) for v in iou])
        print(f"{name:30s} test mIoU {np.nanmean(iou):.3f}", flush=True)
    if a.json: atomic_write(a.json, lambda f: f.write(json.dumps(res, indent=1).encode()))

if __name__ == '__main__': main()
