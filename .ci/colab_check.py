"""The Colab path, tested without Colab, in CI's last environment (`.ci/run`, after the newest-fastai step).

What a Colab user does, step by step: open a tutorial, run its first cell (which, on Colab, pip-installs the library
and calls `colab_setup`), then run the tutorial. Here:

1. Every tutorial notebook (`nbs/NN_*.ipynb`, NN < 90) is checked to open, right after its title cell, with the
   "Open in Colab" link built from settings.ini's repository and the set-up cell (SEMSEG_GAN_PIP_SPEC, colab_setup,
   never the `[dev]` extra).
2. The venv gets Colab's versions of fastai and ipywidgets (COLAB_PINS), and the library is uninstalled; a wheel is
   built from the checkout (`pip wheel --no-deps`).
3. For each notebook checked (default: 03_semantic_discriminator, a short lesson, and 07_widgets, whose last cells
   are the explorer's kernel-level tests, driving the widgets from code), a real Jupyter kernel (nbclient + ipykernel,
   as Colab runs one) is started in an empty folder, away from the checkout, with a stand-in `google.colab` imported
   first (Colab's kernel imports it at start; its `drive.mount` records its calls). The notebook's own set-up cell
   runs as written, with SEMSEG_GAN_PIP_SPEC pointing at the wheel, so it installs the library; the installed copy
   must be the one imported, `colab_setup` must say Colab, and with `keep_runs_on_drive=True` mount Drive. Then every
   other cell runs, except the exported ones (their definitions come from the installed library instead, so the
   wheel is what is tested), those behind a test flag (settings.ini's tst_flags: `slow` needs the real datasets) and
   `#| eval: false` ones.
4. The install must have added the library and changed nothing else in the environment (Colab's torch, fastai,
   fastcore and ipywidgets stay): `pip freeze` before and after.

Not reproduced: Colab's Python (3.13) and torch (2.11); the venv keeps its own (CI: Python 3.11, torch 2.14), and
fastcore is the newest 2.x that the previous step installed (Colab: 2.2). This changes the venv it runs in (fastai,
ipywidgets and the library), which is why it is CI's last step.

Run from the repository root: `python .ci/colab_check.py [--notebooks 03_semantic_discriminator 07_widgets]`
(`--cells-only`: step 1 alone, in seconds, which CI's sync step runs so a misplaced cell fails early).
Any failure exits with status 1 and says which notebook, which cell, and the error."""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLAB_PINS = ['fastai==2.8.8', 'ipywidgets==7.7.1']   # what Colab ships (Python 3.13, torch 2.11, fastcore 2.2: not pinned here)
ANSI = re.compile(r'\x1b\[[0-9;]*m')   # the colours of a kernel's traceback
SKIP = {'export', 'exporti', 'exports', 'default_exp'}   # cells whose code comes from the installed library instead

def fail(msg): sys.exit(f'[colab check] FAILED: {msg}')
def log(msg): print(f'[colab check] {msg}', flush=True)
def src(c): return ''.join(c['source']) if isinstance(c['source'], list) else c['source']
def pip(*args, **kw): return subprocess.run([sys.executable, '-m', 'pip', *args], check=True, **kw)

def settings():
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini'); return cfg['DEFAULT']

def directives(code:str) -> dict:
    "The leading `#| name value` lines of a cell."
    d = {}
    for line in code.splitlines():
        m = re.match(r'#\|\s*([\w-]+):?\s*(.*)$', line)
        if not m: break
        d[m[1]] = m[2].strip()
    return d

# --------------------------------------------------------------------------------------------------- 1. the cells
def colab_cells(path:Path, s) -> tuple:
    "The notebook's link cell and set-up cell, checked: right after the title cell, link built from settings.ini."
    cells = json.loads(path.read_text())['cells']
    t = next(i for i, c in enumerate(cells) if c['cell_type'] == 'markdown')
    if not re.match(r'# .+\n\n> ', src(cells[t])): fail(f'{path.name}: the first markdown cell is not the title (# ... > ...)')
    repo = s['git_url'].removeprefix('https://github.com/')
    url = f"https://colab.research.google.com/github/{repo}/blob/{s['branch']}/{s['nbs_path']}/{path.name}"
    link, setup = (cells[t + 1:t + 3] + [None, None])[:2]
    if not (link and link['cell_type'] == 'markdown' and f'[Open in Colab]({url})' in src(link)):
        fail(f'{path.name}: the cell after the title must hold the link [Open in Colab]({url})')
    code = src(setup) if setup and setup['cell_type'] == 'code' else ''
    for need in ('SEMSEG_GAN_PIP_SPEC', f'git+https://github.com/{repo}', "'google.colab' in sys.modules", 'colab_setup('):
        if need not in code: fail(f'{path.name}: the set-up cell after the link must contain {need!r}')
    if '[dev]' in code.replace('[dev] extra', ''): fail(f"{path.name}: the set-up cell must not install the [dev] extra")
    return link, setup

# ------------------------------------------------------------------------------------------ 3. a notebook, on "Colab"
FAKE_COLAB = '''"A stand-in for Colab's google.colab, written by .ci/colab_check.py: only what the notebooks use."
from . import drive
'''
FAKE_DRIVE = '''"drive.mount of the stand-in: creates MyDrive under the mount point and records the call."
import json, os
from pathlib import Path
def mount(mountpoint, force_remount=False, **kw):
    Path(mountpoint, 'MyDrive').mkdir(parents=True, exist_ok=True)
    with open(os.environ['COLAB_CHECK_MOUNTS'], 'a') as f: f.write(json.dumps(str(mountpoint)) + '\\n')
'''
PREAMBLE = '''import google.colab, sys   # Colab's kernel imports google.colab at start; this one is the stand-in
print('kernel: Python', sys.version.split()[0], 'at', sys.executable)'''
CHECKS = '''import json, os, sys
from pathlib import Path
import fastai, fastcore, ipywidgets, torch, semseg_gan
print('installed by the cell:', semseg_gan.__file__)
print('fastai', fastai.__version__, 'fastcore', fastcore.__version__, 'ipywidgets', ipywidgets.__version__, 'torch', torch.__version__)
assert machine.colab and machine.device == ('cuda' if torch.cuda.is_available() else 'cpu'), machine
assert Path(semseg_gan.__file__).resolve().parent.parent != Path({root!r}), 'the checkout was imported, not the installed wheel'
assert (fastai.__version__, ipywidgets.__version__) == {versions!r}, 'not the versions Colab ships'
drive = {drive!r}
m = colab_setup(keep_runs_on_drive=True, drive_mount=drive)
assert m.runs == Path(drive)/'MyDrive'/'semseg_gan'/'runs' and m.runs.is_dir(), m
assert [json.loads(l) for l in open(os.environ['COLAB_CHECK_MOUNTS'])] == [drive], 'Drive was not mounted once'
print('keep_runs_on_drive=True mounted the (stand-in) Drive:', m.runs)'''
LIBRARY = '''import importlib   # the exported cells' definitions, from the installed library (their private names too)
globals().update({{k: v for k, v in vars(importlib.import_module('semseg_gan.{mod}')).items() if not k.startswith('__')}})'''

def run_notebook(name:str, s, tmp:Path, wheel:Path) -> float:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    path = ROOT/s['nbs_path']/f'{name}.ipynb'
    _, setup = colab_cells(path, s)
    cells = json.loads(path.read_text())['cells']
    flags = set(s.get('tst_flags', '').split())
    mod = next((d['default_exp'] for c in cells if c['cell_type'] == 'code' for d in [directives(src(c))] if 'default_exp' in d), None)
    body, skipped = [], 0
    for c in cells[cells.index(setup) + 1:]:
        if c['cell_type'] != 'code' or not src(c).strip(): continue
        d = directives(src(c))
        if SKIP & set(d) or flags & set(d) or d.get('eval') == 'false': skipped += 1; continue
        body.append(src(c))
    work = tmp/f'content_{name}'; work.mkdir()          # Colab's /content: an empty folder, not the checkout
    os.environ['COLAB_CHECK_MOUNTS'] = str(tmp/f'mounts_{name}.txt')
    versions = tuple(p.split('==')[1] for p in COLAB_PINS)
    pre = [PREAMBLE, src(setup), CHECKS.format(root=str(ROOT), versions=versions, drive=str(tmp/f'drive_{name}'))]
    pre += [LIBRARY.format(mod=mod)] if mod else []
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in pre + body])
    nb.metadata['kernelspec'] = {'name': 'colab-check', 'display_name': 'colab check', 'language': 'python'}
    log(f'{name}: the set-up cell, the checks, then {len(body)} cells ({skipped} exported or flagged cells left out), '
        f'in a kernel in {work}')
    t = time.time()
    client = NotebookClient(nb, timeout=1800, kernel_name='colab-check', resources={'metadata': {'path': str(work)}})
    try: client.execute()
    except CellExecutionError as e: fail(f'{name}: a cell failed in the Colab-like kernel:\n' + ANSI.sub('', str(e)))
    except Exception as e: fail(f'{name}: the kernel could not run the notebook: {type(e).__name__}: {e}')
    for c in nb.cells[:len(pre)]:
        for o in c.outputs:
            if o.get('output_type') == 'stream' and o.get('name') == 'stdout':
                for line in o['text'].splitlines(): log(f'  {name} | {line}')
    return time.time() - t

def kernel_spec(tmp:Path, fake:Path):
    "A kernelspec for this venv's Python, with the stand-in google.colab importable (found through JUPYTER_PATH)."
    d = tmp/'jupyter'/'kernels'/'colab-check'; d.mkdir(parents=True)
    path = os.pathsep.join(filter(None, [str(fake), os.environ.get('PYTHONPATH')]))
    (d/'kernel.json').write_text(json.dumps({'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
                                             'display_name': 'colab check', 'language': 'python', 'env': {'PYTHONPATH': path}}))
    os.environ['JUPYTER_PATH'] = os.pathsep.join(filter(None, [str(tmp/'jupyter'), os.environ.get('JUPYTER_PATH')]))

def freeze() -> dict:
    out = pip('freeze', '--all', capture_output=True, text=True).stdout
    pkgs = {}
    for line in out.splitlines():
        m = re.match(r'([A-Za-z0-9_.\-]+)\s*(?:==\s*(\S+)|@\s*(\S+))', line)
        if m: pkgs[re.sub(r'[-_.]+', '-', m[1]).lower()] = m[2] or m[3]
    return pkgs

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--notebooks', nargs='+', default=['03_semantic_discriminator', '07_widgets'])
    ap.add_argument('--cells-only', action='store_true', help="only step 1 (seconds; CI's early sync step runs it)")
    args = ap.parse_args()
    t0, s = time.time(), settings()
    tutorials = sorted(p for p in (ROOT/s['nbs_path']).glob('[0-9][0-9]*_*.ipynb') if int(p.name[:2]) < 90)
    for p in tutorials: colab_cells(p, s)
    log(f'{len(tutorials)} tutorial notebooks open with the Colab link and set-up cell')
    if args.cells_only: return

    tmp = Path(tempfile.mkdtemp(prefix='colab_check_'))
    pip('wheel', '-q', '--no-deps', '-w', str(tmp/'wheel'), str(ROOT))
    wheel = next((tmp/'wheel').glob('semseg_gan-*.whl'))
    log(f'installing Colab\'s {" ".join(COLAB_PINS)} (pip may report nbdev 2 as broken by fastcore 2: expected here)')
    pip('install', '-q', *COLAB_PINS)
    pip('uninstall', '-q', '-y', 'semseg_gan')   # each notebook's own first cell installs it
    fake = tmp/'fake_colab'; (fake/'google'/'colab').mkdir(parents=True)   # `google` stays a namespace package
    (fake/'google'/'colab'/'__init__.py').write_text(FAKE_COLAB); (fake/'google'/'colab'/'drive.py').write_text(FAKE_DRIVE)
    kernel_spec(tmp, fake)
    os.environ['SEMSEG_GAN_PIP_SPEC'] = str(wheel)
    before = freeze()
    times = {}
    for i, name in enumerate(args.notebooks):
        if i: pip('uninstall', '-q', '-y', 'semseg_gan')   # installed by the previous notebook's first cell
        times[name] = run_notebook(name, s, tmp, wheel)
        log(f'{name}: every cell ran ({times[name]:.0f} s)')
    after = freeze()
    changed = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    if set(changed) != {'semseg-gan'}:
        fail(f'installing the library changed more than the library (Colab\'s own packages must stay): {changed}')
    log(f'the set-up cell installed {wheel.name} and changed nothing else; done in {time.time() - t0:.0f} s '
        f'({", ".join(f"{k} {v:.0f} s" for k, v in times.items())})')
    shutil.rmtree(tmp, ignore_errors=True)   # kept when a check fails, to look into

if __name__ == '__main__': main()
