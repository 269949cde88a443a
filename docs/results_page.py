"""The site's Results page, written when the site is built (`docs/build.py` calls `results_page`) from the result files
committed in nbs/results/: every number on the page is computed here from those files, with the library's own
functions where the notebooks use them (`semseg_gan.ablation.results_table`, `semseg_gan.benchmark.bench_compare`, ...),
so the page always says what the files say. Nothing here is hard-coded but the layout and the prose.

A result file that is missing gives a line saying so, not a failed build; a file that is there but cannot be read (or
that the library's functions reject) fails the build, with the file named. A file under nbs/results/ that no section
reads is listed at the end, so that nothing committed there goes unseen.

The page names notebooks as `NN_name` in backticks and the benchmarks page as `docs/benchmarks.md`: `build.py` turns
those into links (to pages that exist; a name whose notebook is missing stays plain text).

Try it alone: `python docs/results_page.py` prints the page's Markdown."""
import json, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT/'nbs'/'results'
FACADES, FACADES_TS16, POSE, BENCH = 'facades_ablation_cpu.json', 'facades_ablation_cpu_ts16.json', 'market_pose_cpu4_unetE_aug.json', 'bench'
POSE_B1, POSE_FULL_B1, POSE_CONFIRM = 'market_pose_cpu4_b1_4ep.json', 'market_pose_cpu4_full_b1_4ep.json', 'market_pose_cpu4_b1_confirm.json'
POSE_SEMLOSS, POSE_LS2X2 = 'market_pose_cpu4_semloss_4ep.json', 'market_pose_cpu4_ls2x2_4ep.json'
REAL_GRID = 'facades_grid'

def f3(v): return '' if v is None or v != v else f'{v:.3f}'
def signed(v): return '' if v != v else f'{v:+.3f}'.replace('-', '−')
def interval(t, k) -> str:
    "One row of a paired comparison (`paired_bootstrap`'s table): difference [95 % interval], and the verdict when there is one."
    return (f"{signed(t.loc[k, 'difference'])} [{signed(t.loc[k, 'CI low'])}, {signed(t.loc[k, 'CI high'])}]"
            + (f" **{t.loc[k, 'verdict']}**" if t.loc[k, 'verdict'] in ('helps', 'hurts') else ''))

def md_table(rows, head, index='') -> str:
    "A Markdown table: `rows` is a list of (label, [cells]) or a pandas DataFrame (its index labels the rows)."
    if hasattr(rows, 'iterrows'): rows = [(i, list(r)) for i, r in rows.iterrows()]
    esc = lambda x: str(x).replace('|', '\\|')
    return ('| ' + ' | '.join(map(esc, [index] + list(head))) + ' |\n|' + '---|' * (len(head) + 1) + '\n'
            + ''.join('| ' + ' | '.join(map(esc, [i] + list(r))) + ' |\n' for i, r in rows))

def read(name):
    "A results file's JSON, or None when the file is not there."
    p = RESULTS/name
    if not p.exists(): return None
    try: return json.loads(p.read_text())
    except Exception as e: raise SystemExit(f'[docs] results page: cannot read {p.relative_to(ROOT)}: {e}') from e

def missing(name, notebook):
    return f'*Not measured yet: `nbs/results/{name}` is not in the repository (`{notebook}` writes it).*\n'

def provenance(res, extra='') -> str:
    cmd = res.get('command')
    return (f"Measured with `{cmd}`" if cmd else 'Measured') + (f" at commit `{res['git_commit']}`" if res.get('git_commit') else '') \
        + (f", started {res['started'].replace('T', ' ')}" if res.get('started') else '') + '.' + (f' {extra}' if extra else '') + '\n'

def per_seed_vs(res, key, intro:str, label:str, base='pix2pix') -> list:
    "Per variant and seed, the variant's `key` minus the base's with the same seed: [intro, Markdown table], or [] without a base."
    import pandas as pd
    df = pd.DataFrame(res['runs']).pivot_table(index='variant', columns='seed', values=key, sort=False)
    if base not in df.index: return []
    d = (df - df.loc[base]).drop(index=base)
    return [intro, md_table([(v, [signed(x) for x in r]) for v, r in zip(d.index, d.values.tolist())],
                            [f'seed {s}' for s in d.columns], label)]

# ------------------------------------------------------------------------------------------------------- sections
def facades_section(used) -> str:
    out = ['## The first grid on CMP Facades: four variants, two seeds\n',
           'Our first, smaller grid on real facades: a weaker evaluator (0.296 mIoU on the real photos), 3 + 3 epochs, no '
           'intervals. For the semantic discriminator the grid at the top of this page supersedes it; for the perceptual-loss '
           'variants (`semloss`, `full`), which that grid does not train yet, it is the only measurement on real facades. The method against pix2pix (`10_facades_ablation`, which explains the setup, the '
           'evaluator and how to read these numbers): FCN-scores of a separately trained segmentation network $E$ on '
           'the generated test images, mean ± standard deviation over seeds, and FID-E, a Fréchet distance in $E$\'s '
           'feature space (lower is better; not comparable with published FIDs).\n']
    res = read(FACADES)
    if res is None: return '\n'.join(out + [missing(FACADES, '10_facades_ablation')])
    used.add(FACADES)
    from semseg_gan.ablation import results_table, per_class_table
    out.append(f"{res['dataset']}, the `{res['preset']}` preset ({res['size']} px), {res['epochs']} + {res['epochs_decay']} epochs, "
               f"seeds {', '.join(map(str, res['seeds']))}, {res['n_test']} test images. $T_s$: validation mIoU "
               f"{f3(res['T_s']['valid_miou'])}; $E$ ({res['E']['arch']}, seed {res['E']['seed']}): validation mIoU "
               f"{f3(res['E']['valid_miou'])}. " + provenance(res))
    t = results_table(res)
    out.append(md_table(t, list(t.columns)))
    out += per_seed_vs(res, 'mean_iou', 'The same runs paired by seed: each variant\'s mIoU minus pix2pix\'s with the same '
                       'seed (the spread between seeds is the scale any difference above has to beat):\n', 'mIoU − pix2pix')
    pc = per_class_table(res)
    out.append('Per class, the IoU of $E$ on the generated images (mean over seeds), and on the real photos:\n')
    out.append(md_table([(v, [f3(x) for x in r]) for v, r in zip(pc.index, pc.values.tolist())], list(pc.columns)))
    r16 = read(FACADES_TS16)
    if r16 is not None:
        used.add(FACADES_TS16)
        door = res['classes'].index('door') if 'door' in res['classes'] else None
        rows = [(f"{rr['T_s']['width']}, seed {r['seed']}",
                 [f3(rr['T_s']['valid_miou']), f3(r['mean_iou'])] + ([f3(r['per_class_iou'][door])] if door is not None else [])
                 + [f"{r['fid_e']:.1f}"])
                for rr in (res, r16) for r in rr['runs'] if r['variant'] == 'full']
        out.append('A cheaper $T_s$ (16 channels wide instead of 32, the trade-off the benchmarks page measures in time) '
                   'in the `full` variant, in the same setting, against the `full` runs above. ' + provenance(r16))
        out.append(md_table(rows, ['$T_s$ val. mIoU', 'mIoU'] + (['door IoU'] if door is not None else []) + ['FID-E'], '$T_s$ width'))
    return '\n'.join(out)

def stub(title, intro, note) -> str:
    "A section that shows no table: its title, what it is, and why there is nothing to show yet."
    return '\n'.join([f'## {title}\n', intro + '\n', note])

def pose_section(used, name=POSE, title='A person in a new pose, on Market-1501', intro=
                 'The paper\'s second task (`11_pose_market`): a person drawn in a target pose. SSIM and mask-SSIM against '
                 'the target photo, and PCKh of a separately trained pose network on the generated people; mean ± standard '
                 'deviation over seeds.', res=None) -> str:
    "A pose grid's results (a `run_pose_ablation` file, or `res` made from it): the scores per variant or setting, and each against pix2pix, paired."
    out = [f'## {title}\n', intro + '\n']
    res = res or read(name)
    if res is None: return '\n'.join(out + [missing(name, '11_pose_market')])
    used.add(name)
    betas = {n: s['class_weight'] for n, s in res.get('settings', {}).items() if 'class_weight' in s}   # older files: the default
    out.append('The semantic discriminator\'s class weight β: ' + (', '.join(f'{b:g} in `{n}`' for n, b in betas.items()) if betas
               else '0.05 (the library\'s default) in `semdisc` and `full`') + '.\n')
    import pandas as pd
    size = '×'.join(map(str, res['size'])) if isinstance(res['size'], list) else res['size']
    out.append(f"{res['dataset']}, {size} px, {res.get('n_train_pairs', '?')} training and {res.get('n_test_pairs', '?')} test "
               f"pairs, {res['epochs']} + {res['epochs_decay']} epochs, finished seeds "
               f"{', '.join(map(str, sorted({r['seed'] for r in res['runs']})))}. $T_s$ "
               f"test PCKh {f3(res['T_s']['test_pckh'])}; evaluator ({res['E']['arch']}, seed {res['E']['seed']}) test PCKh "
               f"{f3(res['E']['test_pckh'])}. " + provenance(res))
    cols = {'ssim': 'SSIM', 'mask_ssim': 'mask-SSIM', 'pckh': 'PCKh'}
    g = pd.DataFrame(res['runs']).groupby('variant', sort=False)[list(cols)]
    m, sd = g.mean(), g.std(ddof=1).fillna(0)
    rows = [(v, [f'{f3(a)} ± {f3(b)}' for a, b in zip(m.loc[v], sd.loc[v])]) for v in m.index]
    ub = res['upper_bound']
    rows.append(('real targets (upper bound)', [f3(ub[c]) for c in cols]))
    out.append(md_table(rows, list(cols.values())))
    out += per_seed_vs(res, 'ssim', 'SSIM paired by seed, each variant minus pix2pix:\n', 'SSIM − pix2pix')
    from semseg_gan.pose import pose_compare
    groups = ['all joints', 'face', 'hands (wrists)']
    rows = [(v, [interval(t, g) for g in groups]) for v, t in ((v, pose_compare(res, v)) for v in m.index if v != 'pix2pix')]
    out.append('PCKh paired by seed and test image (`pose_compare`): each variant minus pix2pix, with its 95 % bootstrap '
               'interval; a cell without a word is *inconclusive* (the interval spans 0):\n')
    out.append(md_table(rows, groups, 'variant − pix2pix'))
    return '\n'.join(out)

def pose_b1_section(used) -> str:
    return pose_section(used, POSE_B1, 'Market-1501: the semantic D at β = 1, twice the schedule',
        'The same task with the semantic discriminator\'s class terms at full weight (`semdisc_b1`) and at the library\'s weight (`semdisc`) against pix2pix, paired '
        'seeds of 4 + 4 epochs, and its own $T_s$ and evaluator, trained again with the same settings (so its runs are compared '
        'only with each other; `11_pose_market`).')

def pose_full_b1_section(used) -> str:
    return pose_section(used, POSE_FULL_B1, "Market-1501: the paper's full method at β = 1",
        'The paper\'s two ideas together (`full_b1`: the semantic discriminator at β = 1 and the semantic perceptual loss in '
        'place of L1) against pix2pix, with the seeds, schedule, $T_s$ and evaluator of the β = 1 grid above. Its pix2pix runs '
        'are that grid\'s (every recorded score matches), so `11_pose_market` also pairs `full_b1` with `semdisc_b1`.')

def planned_section(used, name, title, intro) -> str:
    "A grid planned before it ran (`bench/*_plan.md`): its comparisons only once all its planned runs are in, as its plan says."
    res = read(name)
    if res is None: return stub(title, intro, missing(name, '11_pose_market'))
    done = {v: sorted(r['seed'] for r in res['runs'] if r['variant'] == v) for v in res['settings']}   # `seeds`: the grid's planned seeds (11 checks them against the plan)
    if all(s == res['seeds'] for s in done.values()): return pose_section(used, name, title, intro)
    used.add(name)
    return stub(title, intro, f"{sum(map(len, done.values()))} of {len(done) * len(res['seeds'])} planned "
                'runs have finished; as planned, the comparison is shown only when all of them are in.\n')

def pose_confirm_section(used) -> str:
    return planned_section(used, POSE_CONFIRM, 'Market-1501: a confirmatory grid, planned before it ran',
        '`semdisc_b1` against pix2pix with 16 new seeds and the $T_s$ and evaluator of the β = 1 grid above. '
        '`bench/market_confirm_plan.md` fixed the grid and its analysis before the first run: the face and the wrists '
        'are its primary comparisons, all joints and the body secondary (`11_pose_market`).')

def pose_ls2x2_section(used) -> str:
    return planned_section(used, POSE_LS2X2, 'Market-1501: the perceptual loss and the semantic D, 2 × 2 in one grid, planned before it ran',
        'pix2pix, `semloss` ($\\mathcal L_s$ in place of L1), `semdisc_b1` and `full_b1` ({L1, $\\mathcal L_s$} × {PatchGAN, semantic '
        'D at β = 1}) at 4 + 4 epochs, seeds 0-7, with $T_s$ and an evaluator trained by this grid, so nothing in it is paired with '
        'another grid\'s runs. `bench/market_ls2x2_plan.md` fixed the grid and its analysis before the first run: its primary '
        'comparison is `semloss` − pix2pix over all joints (`11_pose_market`, which also pairs `full_b1` with `semdisc_b1`).')

def pose_semloss_section(used) -> str:
    """`bench/market_semloss_plan.md`'s first attempt at the 2 x 2: `semloss` alone, to be paired with the β = 1 and `full_b1`
    grids' runs only if its $T_s$ and evaluator were theirs. They were not, and the grid was stopped (its file is final)."""
    title, name = 'Market-1501: the perceptual loss at twice the schedule, a first attempt (not answered)', POSE_SEMLOSS
    intro = ('`semloss` ($\\mathcal L_s$ in place of L1) at 4 + 4 epochs, seeds 0-7, was to complete a 2 × 2 with the runs above of the '
             'same seeds: {L1, $\\mathcal L_s$} × {PatchGAN, semantic D at β = 1} = pix2pix, `semloss`, `semdisc_b1`, `full_b1`. '
             '`bench/market_semloss_plan.md` fixed it before the first run, with a condition: the same $T_s$ and evaluator as '
             'those grids (`11_pose_market`).')
    res, b1 = read(name), read(POSE_B1)
    if res is None or b1 is None: return stub(title, intro, missing(name, '11_pose_market'))
    used.add(name)
    same = [k for k in ('T_s', 'E') if res[k] == b1[k]]
    if same: raise SystemExit(f'[docs] results page: {name} has the β = 1 grid\'s {same}: its section says they differ; write its comparison')
    return stub(title, intro, "The condition failed: this grid's $T_s$ and evaluator differ from the β = 1 grid's (test PCKh of $T_s$ "
                f"{f3(res['T_s']['test_pckh'])} against {f3(b1['T_s']['test_pckh'])}, of the evaluator {f3(res['E']['test_pckh'])} against "
                f"{f3(b1['E']['test_pckh'])}). So, as planned, its runs are not compared with that grid's; it was stopped after "
                f"{len(res['runs'])} of its {len(res['seeds'])} runs. The 2 × 2 in one grid below replaces it.\n")

def bench_section(used) -> str:
    return grid_section(used, BENCH, 'The controlled benchmark',
        'Procedural facades whose small, rare classes are painted by rules a generator can learn, and an evaluator '
        '$E$ that segments every class of the real images almost perfectly (`12_controlled_benchmark`, which '
        'explains the benchmark, the settings and the statistics). Each setting is trained with the same seeds and '
        'budget; a background grid adds one result file per finished run, so the seeds below are those finished '
        'when the site was built.\n')

def real_grid_section(used) -> str:
    from semseg_gan.benchmark import GRIDS
    return grid_section(used, REAL_GRID, 'The paper\'s question on real facades: the grid on CMP',
        'The benchmark\'s runner on CMP Facades at 128 px, with pix2pix\'s networks and batch (`12_controlled_benchmark`): '
        'pix2pix, the semantic D at class weight 1 and the class-balanced PatchGAN, 4 paired seeds (the 12 runs were done 8 minutes '
        'after the start on one lent H200 GPU, the evaluator\'s training included, `bench/gpu_grid.py`; about 6 hours on a 2-core CPU). Its evaluator reads the real test photos '
        'at 0.44 mIoU, short of the 0.45 the project set: read the small classes against the row "real photos".\n', rare=GRIDS['facades']['rare'])

def grid_section(used, folder:str, title:str, intro:str, rare=None) -> str:
    "A grid's results: E's IoU per setting (mean over the finished seeds) and each setting against pix2pix, paired by seed."
    out = [f'## {title}\n', intro]
    files = sorted((RESULTS/folder).glob('*_seed*.json')) if (RESULTS/folder).is_dir() else []
    if not files: return '\n'.join(out + [missing(f'{folder}/*_seed*.json', '12_controlled_benchmark')])
    from semseg_gan.benchmark import bench_results, bench_scores, bench_compare, BENCH_RARE, BENCH_SETTINGS
    try: res = bench_results(RESULTS/folder)
    except Exception as e: raise SystemExit(f'[docs] results page: cannot read {RESULTS/folder}: {e!r}') from e
    used.update(f'{folder}/{p.name}' for p in files)
    any_r = next(iter(res.values()))
    E = any_r['E']
    ds = any_r['dataset']
    out.append(f"{ds[:1].upper() + ds[1:]}; each run: the `{any_r['preset']}` preset, batch {any_r['bs']}, {any_r['epochs']} + "
               f"{any_r['epochs_decay']} epochs; $E$: {E['arch']}, "
               + (f"seeds {', '.join(map(str, E['ensemble_seeds']))} averaged" if E.get('ensemble_seeds') else f"seed {E['seed']}")
               + (' with test-time augmentation' if E.get('tta') else '') + f". {len(res)} run{'s' * (len(res) != 1)} finished, in "
               f"{len(files)} file{'s' * (len(files) != 1)} under `nbs/results/{folder}/`.\n")
    t = bench_scores(res)
    rare = [c for c in (rare or BENCH_RARE) if c in t.columns]
    out.append('The settings: `pix2pix` (one-map PatchGAN, pixel L1); `semdisc_bX` (the semantic discriminator, its class terms '
               'weighted X in total: 0.05 is the authors\' scale); `semdisc_b1_nearest` (the same at weight 1, the map resized '
               'to D\'s grid by nearest neighbour as in the authors\' code, instead of by area); `balanced` (one PatchGAN map, '
               'its loss weighted so that every class present counts equally); `semloss` (pix2pix with the pixel L1 term '
               'replaced by the semantic perceptual loss); `full` (the paper\'s method: the semantic discriminator at weight 1 and the '
               'perceptual loss). The row "real photos" is $E$ on the real test photos: what it '
               'reaches on images it was trained to read, not a bound a generator cannot pass (a generated image can be '
               'easier to segment than a real one).\n')
    out.append(f"$E$'s IoU on the generated test images, mean over the seeds finished; the rare classes ({', '.join(rare)}) "
               'first, then the mean over all classes:\n')
    cols = rare + ['mean IoU']
    out.append(md_table([(f'`{i}`' if i in BENCH_SETTINGS else i,
                          [f3(r[c]) for c in cols] + ['' if r['seeds'] != r['seeds'] else str(int(r['seeds']))])
                         for i, r in t.iterrows()], cols + ['seeds']))
    others = [c for c in t.columns if c not in cols + ['seeds']]
    out.append('The other classes:\n')
    out.append(md_table([(f'`{i}`' if i in BENCH_SETTINGS else i, [f3(r[c]) for c in others]) for i, r in t.iterrows()], others))
    rows, few = [], False
    for st in BENCH_SETTINGS:
        if st == 'pix2pix' or not any(s == st and ('pix2pix', k) in res for (s, k) in res): continue
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            c = bench_compare(res, st)
        n = len(c.attrs['seeds']); few |= n < 3
        rows.append((f'`{st}`', [interval(c, k) for k in cols] + [str(n)]))
    if rows:
        out.append("Each setting against pix2pix, paired by seed (`bench_compare`): the difference in $E$'s IoU, and its "
                   '95 % bootstrap interval over seeds and test images. The library calls a difference *helps* or '
                   '*hurts* only when the interval excludes 0 and at least 3 seeds are paired; a cell without a word is *inconclusive* '
                   '(the interval spans 0)'
                   + ('; with fewer seeds it gives no verdict, so some rows below have none yet' if few else '') + ':\n')
        out.append(md_table(rows, cols + ['seeds paired'], 'setting − pix2pix'))
    return '\n'.join(out)

def results_page() -> str:
    used = set()
    sections = [real_grid_section(used), pose_section(used), pose_b1_section(used), pose_full_b1_section(used), pose_confirm_section(used), pose_semloss_section(used), pose_ls2x2_section(used), bench_section(used), facades_section(used)]
    head = ('# Results\n\nWhat this project has measured, gathered from the result files committed in `nbs/results/`. '
            'Every number on this page is computed from those files when the site is built (by `docs/results_page.py`, '
            'with the library\'s own functions where the notebooks use them), so the page and the files cannot '
            'disagree. The notebook named in each section explains the setup, shows the figures and says how to read '
            'the numbers: at the budgets used here (a few epochs, mostly on CPUs) they describe these runs, not the paper\'s '
            'setting. What each variant costs to train and to run is on the benchmarks page (`docs/benchmarks.md`).\n')
    rest = sorted(str(p.relative_to(RESULTS)) for p in RESULTS.rglob('*') if p.is_file()) if RESULTS.is_dir() else []
    rest = [r for r in rest if r not in used]
    tail = ('## Other result files\n\nCommitted under `nbs/results/` but not shown above:\n\n'
            + ''.join(f'- `nbs/results/{r}`\n' for r in rest)) if rest else ''
    return '\n'.join([head] + sections + [tail])

if __name__ == '__main__':
    import os, sys
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    sys.stdout.write(results_page())
