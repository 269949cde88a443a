"""A real-browser test of the discriminator explorer: JupyterLab on loopback, Debian's Chromium driven by
Playwright (no browser download), the notebook nbs/07_widgets.ipynb run in it, the sample slider moved and the class
dropdown changed, the picture checked to have changed each time, and screenshots saved as evidence (runs/browser/*.png).

When an attempt fails, it says why: the notebook's error output, the cells' prompts, the status bar, the
browser's console errors and the end of JupyterLab's log are printed, and a screenshot is saved
(runs/browser/failed_attempt_N.png). A failed attempt is retried once, with a fresh JupyterLab and browser;
both attempts' reports stay in the log.

Works with ipywidgets 8 (the project's environment) and 7.7.1 (Colab's: CI runs it again with `--ipywidgets 7.7.1`
after the Colab check has installed that version). The kernel's ipywidgets and JupyterLab's widget manager must match:
JupyterLab 4 renders ipywidgets 8 with jupyterlab_widgets 3, and ipywidgets 7 with jupyterlab_widgets 1.x (1.1.11
declares JupyterLab 3 or 4). With 7.7.1 and jupyterlab_widgets 3, which pip leaves in place (7.7.1 asks for >= 1.0),
every widget fails in the browser ("Module @jupyter-widgets/controls, version ^1.5.0 is not registered, however, 2.0.0
is") while the cells run without error. The ipywidgets 8 views draw the slider with noUiSlider (`.noUi-handle`), the
7 views with jQuery UI (`.ui-slider-handle`): the slider is moved with the keyboard on either handle, its value read
from its readout, the dropdown is a `<select>` in both; the report says which slider it found.

Run from the repository root in the project's environment: `python .ci/browser_test.py [--notebook PATH] [--python PY]`
(`--notebook` runs another copy of the notebook, e.g. one with a deliberate error, to see the failure report;
`--python` is the Python that runs JupyterLab and the kernel, e.g. another venv's with other ipywidgets; default: this
one. Playwright is needed only in the Python that runs this script)."""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'runs'/'browser'; OUT.mkdir(parents=True, exist_ok=True)
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync']
NOTEBOOK_LIMIT_S = 300   # the whole notebook takes ~30 s here; this only bounds a hung run

class AttemptFailed(Exception): pass

VERSIONS = '''from importlib.metadata import version
print(', '.join(f'{p} {version(p)}' for p in ('jupyterlab', 'jupyterlab_widgets', 'ipywidgets')))'''

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def write_settings(cfg):
    "User settings: no news pop-up over the screenshots, and every cell kept in the page (no windowing)."
    us = cfg/'lab'/'user-settings'/'@jupyterlab'
    for ext, name, value in [('apputils-extension', 'notification', {'fetchNews': 'false', 'checkForUpdates': False}),
                             ('notebook-extension', 'tracker', {'windowingMode': 'none'})]:
        (us/ext).mkdir(parents=True, exist_ok=True)
        (us/ext/f'{name}.jupyterlab-settings').write_text(json.dumps(value))

def start_lab(port, cfg, root, log_path, python):
    write_settings(cfg)
    # private config and data folders, and this environment's kernel first: a `python3` kernel registered in the
    # user's or the system's folders (another Python, without torch) must not be the one that runs the notebook
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(cfg), JUPYTERLAB_SETTINGS_DIR=str(cfg/'lab'/'user-settings'),
               JUPYTER_DATA_DIR=str(cfg/'data'), JUPYTER_PREFER_ENV_PATH='1', MPLBACKEND='Agg')
    # `-m jupyterlab`, not `-m jupyter lab`: the latter runs the first `jupyter-lab` on PATH, maybe another venv's
    cmd = [python, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--port-retries=0',
           '--ServerApp.ip=127.0.0.1', '--IdentityProvider.token=', '--ServerApp.password=', '--LabApp.news_url=None',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--LabApp.extension_manager=readonly',
           f'--ServerApp.root_dir={root}']
    if os.geteuid() == 0: cmd.append('--allow-root')
    p = subprocess.Popen(cmd, stdout=open(log_path, 'w'), stderr=subprocess.STDOUT, env=env)
    for _ in range(120):
        if p.poll() is not None: break
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1): pass
        except OSError: time.sleep(0.5); continue
        try: check_kernel(port, python, log_path)
        except AttemptFailed: stop(p); raise
        return p
    raise AttemptFailed(f'JupyterLab did not start (exit code {p.poll()}); see {log_path}')

def check_kernel(port, python, log_path):
    "The kernel must be `python`'s own, with its ipywidgets: ask the server which interpreter its default kernel runs."
    for _ in range(60):
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/kernelspecs', timeout=5) as r: specs = json.load(r)
            break
        except OSError: time.sleep(0.5)
    else: raise AttemptFailed(f'JupyterLab does not answer /api/kernelspecs; see {log_path}')
    exe = specs['kernelspecs'][specs['default']]['spec']['argv'][0]
    # a bare `python` in a spec means the server's own interpreter (jupyter_client substitutes it), which is `python`
    if not (re.fullmatch(r'python[\d.]*', exe) or os.path.abspath(exe) == os.path.abspath(python)):
        raise AttemptFailed(f'the kernel would run {exe}, not {python}')

def stop(p):
    p.send_signal(signal.SIGTERM)
    try: p.wait(15)
    except subprocess.TimeoutExpired: p.kill()

def state(page):
    "The code cells' prompts ('[ ]', '[*]', '[3]') and the status bar's text."
    return page.locator('.jp-CodeCell .jp-InputPrompt').all_inner_texts(), page.locator('#jp-main-statusbar').inner_text()

def report(page, console, log_path, attempt, why):
    "Everything that says why an attempt failed, printed, and a screenshot."
    lines = [f'--- attempt {attempt} failed: {why}']
    try:
        prompts, status = state(page)
        lines += [f'status bar: {status!r}', f'prompts: {prompts}']
        errs = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
        lines += ['error/stderr outputs in the notebook:' if errs else 'no error or stderr output in the notebook']
        lines += [e[-3000:] for e in errs]
        page.screenshot(path=str(OUT/f'failed_attempt_{attempt}.png'), full_page=True)
        lines.append(f'screenshot: {OUT}/failed_attempt_{attempt}.png')
    except Exception as e: lines.append(f'(could not read the page: {e!r})')
    if console: lines += ['browser console errors:'] + console[-20:]
    if any('is not registered' in c for c in console):
        lines.append('hint: the kernel\'s ipywidgets and JupyterLab\'s widget manager do not match: ipywidgets 8 needs '
                     'jupyterlab_widgets 3, ipywidgets 7 needs jupyterlab_widgets<2')
    log = Path(log_path).read_text(errors='replace').splitlines() if Path(log_path).exists() else []
    lines += [f'last lines of JupyterLab\'s log ({log_path}):'] + log[-40:]
    print('\n'.join(lines), flush=True)

def run_all(page):
    "Run → Run All Cells, repeated until the notebook has started running (a click before it is ready does nothing)."
    for _ in range(5):
        page.locator('.lm-MenuBar-itemLabel', has_text='Run').click()
        page.locator('.lm-Menu-itemLabel').get_by_text('Run All Cells', exact=True).click()
        deadline = time.time() + 30
        while time.time() < deadline:
            if any(re.search(r'\*|\d', p) for p in state(page)[0]): return
            time.sleep(0.5)
    raise AttemptFailed('"Run All Cells" did not start the notebook (no cell queued or run after 5 tries)')

def wait_until_done(page, slider):
    "Wait for the notebook to finish: no cell waiting or running ('[*]'), the last cell numbered, the kernel idle."
    deadline = time.time() + NOTEBOOK_LIMIT_S
    while True:
        prompts, status = state(page)
        running = any('*' in p for p in prompts)
        if not running and prompts and 'Idle' in status:
            if not re.search(r'\d', prompts[-1]):   # the run stopped before the last cell: a cell failed
                raise AttemptFailed('the notebook stopped before its last cell (a cell raised an error)')
            if slider.count() == 0: raise AttemptFailed('the notebook ran to the end but shows no sample slider')
            return
        if re.search(r'Dead|Unknown|No Kernel', status): raise AttemptFailed(f'the kernel is gone: status {status!r}')
        if time.time() > deadline: raise AttemptFailed(f'the notebook did not finish within {NOTEBOOK_LIMIT_S} s')
        page.mouse.wheel(0, 20000); time.sleep(2)

def attempt(n, notebook, python):
    port, console = free_port(), []
    log_path = OUT/f'jupyterlab_{n}.log'
    with tempfile.TemporaryDirectory() as cfg, tempfile.TemporaryDirectory() as root:
        # a copy of the notebook: JupyterLab autosaves what it runs, and the repository's copy must stay as committed
        shutil.copy(notebook, Path(root)/'explorer.ipynb')
        lab = start_lab(port, Path(cfg), root, log_path, python)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path='/usr/bin/chromium', headless=True, args=FLAGS)
                page = browser.new_page(viewport={'width': 1500, 'height': 1100})
                page.on('console', lambda m: console.append(f'  [{m.type}] {m.text[:500]}') if m.type == 'error' else None)
                try:
                    page.goto(f'http://127.0.0.1:{port}/lab/tree/explorer.ipynb')
                    page.wait_for_selector('#jp-main-statusbar', timeout=120_000)
                    page.wait_for_function("() => /ipykernel|Python/.test(document.querySelector('#jp-main-statusbar').innerText) && /Idle/.test(document.querySelector('#jp-main-statusbar').innerText)", timeout=120_000)
                    run_all(page)
                    slider = page.locator('.widget-hslider', has_text='sample')
                    page.mouse.move(800, 600)
                    wait_until_done(page, slider)   # the later cells drive the same widget: let them all finish
                    img = page.locator('.widget-image').first
                    img.scroll_into_view_if_needed(); time.sleep(1); img.scroll_into_view_if_needed()
                    before = img.get_attribute('src')
                    page.screenshot(path=str(OUT/'explorer_before.png'))
                    # ipywidgets 8 draws the slider with noUiSlider, 7 with jQuery UI; both show the value in a readout
                    handle = slider.first.locator('.noUi-handle, .ui-slider-handle').first
                    readout = slider.first.locator('.widget-readout').first
                    value0 = readout.inner_text().strip()
                    handle.focus(); page.keyboard.press('ArrowRight')
                    page.wait_for_function("(b) => document.querySelector('.widget-image').getAttribute('src') !== b", arg=before, timeout=60_000)
                    value1, after = readout.inner_text().strip(), img.get_attribute('src')
                    if value1 == value0 or after == before:
                        raise AttemptFailed(f'moving the sample slider ({value0} -> {value1}) did not change the picture')
                    # the class dropdown: pick another class, as a reader would
                    select = page.locator('.widget-dropdown', has_text='class').first.locator('select')
                    class0 = select.evaluate('s => s.selectedIndex')
                    labels = select.evaluate('s => [...s.options].map(o => o.text.replace(/\\s+/g, " "))')
                    other = max(i for i in range(len(labels)) if i != class0)
                    select.select_option(index=other)
                    class0, other = labels[class0], labels[other]
                    page.wait_for_function("(b) => document.querySelector('.widget-image').getAttribute('src') !== b", arg=after, timeout=60_000)
                    page.screenshot(path=str(OUT/'explorer_after.png'))
                    slider_kind = ('noUiSlider (the ipywidgets 8 views)' if slider.first.locator('.noUi-handle').count()
                                   else 'jQuery UI (the ipywidgets 7 views)')
                    return f'sample slider {value0} -> {value1}, class dropdown {class0!r} -> {other!r}; slider drawn by {slider_kind}'
                except Exception as e:
                    report(page, console, log_path, n, e if isinstance(e, AttemptFailed) else repr(e))
                    raise AttemptFailed(str(e)) from e
                finally: browser.close()
        finally: stop(lab)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--notebook', default=str(ROOT/'nbs'/'07_widgets.ipynb'))
    ap.add_argument('--attempts', type=int, default=2)
    ap.add_argument('--python', default=sys.executable, help='the Python that runs JupyterLab and the kernel')
    ap.add_argument('--ipywidgets', help="fail unless that Python's ipywidgets is this version (e.g. 7.7.1)")
    args = ap.parse_args()
    versions = subprocess.run([args.python, '-c', VERSIONS], capture_output=True, text=True, check=True).stdout.strip()
    print(f'browser test: {versions} ({args.python})', flush=True)
    if args.ipywidgets and not versions.endswith(f'ipywidgets {args.ipywidgets}'):
        sys.exit(f'browser test FAILED: expected ipywidgets {args.ipywidgets}, found {versions}')
    for n in range(1, args.attempts + 1):
        try: what = attempt(n, args.notebook, args.python)
        except AttemptFailed as e:
            if n == args.attempts: sys.exit(f'browser test FAILED after {n} attempt(s): {e}')
            print(f'attempt {n} failed; retrying once with a fresh JupyterLab and browser', flush=True)
            continue
        print(f"browser test passed{f' at attempt {n}' if n > 1 else ''} ({versions}): {what}: "
              f"the explorer's picture changed each time; screenshots in {OUT/'explorer_before.png'} and {OUT/'explorer_after.png'}")
        return

if __name__ == '__main__': main()
