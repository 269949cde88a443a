"""A real-browser test of the discriminator explorer: JupyterLab on loopback, Debian's Chromium driven by
Playwright (no browser download), the notebook nbs/07_widgets.ipynb run in it, a control moved, the picture
checked to have changed, and screenshots saved as evidence (runs/browser/*.png).

Run from the repository root in the project's environment: `python .ci/browser_test.py`."""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
from pathlib import Path
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'runs'/'browser'; OUT.mkdir(parents=True, exist_ok=True)
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync']

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def start_lab(port, cfg, root):
    (cfg/'lab'/'user-settings'/'@jupyterlab'/'apputils-extension').mkdir(parents=True, exist_ok=True)
    (cfg/'lab'/'user-settings'/'@jupyterlab'/'apputils-extension'/'notification.jupyterlab-settings').write_text(
        json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(cfg), JUPYTERLAB_SETTINGS_DIR=str(cfg/'lab'/'user-settings'), MPLBACKEND='Agg')
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', f'--port={port}', '--port-retries=0',
           '--ServerApp.ip=127.0.0.1', '--IdentityProvider.token=', '--ServerApp.password=', '--LabApp.news_url=None',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--LabApp.extension_manager=readonly',
           f'--ServerApp.root_dir={root}']
    if os.geteuid() == 0: cmd.append('--allow-root')
    log = open(OUT/'jupyterlab.log', 'w')
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(120):
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1): return p
        except OSError: time.sleep(0.5)
    raise RuntimeError('JupyterLab did not start; see runs/browser/jupyterlab.log')

def stop(p):
    p.send_signal(signal.SIGTERM)
    try: p.wait(15)
    except subprocess.TimeoutExpired: p.kill()

def main():
    port = free_port()
    with tempfile.TemporaryDirectory() as cfg, tempfile.TemporaryDirectory() as root:
        # a copy of the notebook: JupyterLab autosaves what it runs, and the repository's copy must stay as committed
        shutil.copy(ROOT/'nbs'/'07_widgets.ipynb', Path(root)/'07_widgets.ipynb')
        lab = start_lab(port, Path(cfg), root)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path='/usr/bin/chromium', headless=True, args=FLAGS)
                page = browser.new_page(viewport={'width': 1500, 'height': 1100})
                page.goto(f'http://127.0.0.1:{port}/lab/tree/07_widgets.ipynb')
                page.wait_for_selector('#jp-main-statusbar', timeout=120_000)
                page.wait_for_function("() => /ipykernel|Python/.test(document.querySelector('#jp-main-statusbar').innerText) && /Idle/.test(document.querySelector('#jp-main-statusbar').innerText)", timeout=120_000)
                page.locator('.lm-MenuBar-itemLabel', has_text='Run').click()
                page.locator('.lm-Menu-itemLabel').get_by_text('Run All Cells', exact=True).click()
                slider = page.locator('.widget-hslider', has_text='sample')
                slider.first.wait_for(timeout=600_000)
                img = page.locator('.widget-image').first
                img.wait_for(timeout=120_000)
                # let the whole notebook finish (its later cells drive the same widget): no cell waiting or running
                # ('[*]'), the last cell numbered, and the kernel idle
                page.mouse.move(800, 600)
                deadline = time.time() + 900
                while True:
                    prompts = page.locator('.jp-CodeCell .jp-InputPrompt').all_inner_texts()
                    status = page.locator('#jp-main-statusbar').inner_text()
                    if prompts and not any('*' in p for p in prompts) and re.search(r'\d', prompts[-1]) and 'Idle' in status: break
                    if time.time() > deadline: raise TimeoutError(f'the notebook did not finish: prompts {prompts[-5:]}, status {status!r}')
                    page.mouse.wheel(0, 20000); time.sleep(2)
                img.scroll_into_view_if_needed()
                time.sleep(1)
                img.scroll_into_view_if_needed()
                before = img.get_attribute('src')
                page.screenshot(path=str(OUT/'explorer_before.png'))
                handle = slider.first.locator('.noUi-handle')
                value0 = handle.get_attribute('aria-valuenow')
                handle.focus(); page.keyboard.press('ArrowRight')
                page.wait_for_function("(b) => document.querySelector('.widget-image').getAttribute('src') !== b", arg=before, timeout=60_000)
                value1 = handle.get_attribute('aria-valuenow')
                after = img.get_attribute('src')
                page.screenshot(path=str(OUT/'explorer_after.png'))
                browser.close()
        finally: stop(lab)
    assert value1 != value0 and after != before, 'moving the sample slider did not change the picture'
    print(f"browser test passed: sample slider {value0} -> {value1}, the explorer's picture changed; "
          f"screenshots in {OUT/'explorer_before.png'} and {OUT/'explorer_after.png'}")

if __name__ == '__main__': main()
