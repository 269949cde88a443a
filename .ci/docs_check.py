"""Check the built documentation site in a real browser: the site (docs/_build/html, from `python docs/build.py`) is
served on 127.0.0.1 and every page is opened in Debian's headless Chromium, driven by Playwright (no browser download).

Checked, page by page: it loads (HTTP 200, no JavaScript error); every image loads (naturalWidth > 0); the math is
typeset (every math element holds MathJax's output, no TeX error, no `$...$` or `\\(...\\)` left in the text); every
link inside the site leads to a page, and to an element of it where the link names one. Then: each API page lists every
name of its module's `__all__`, with a section for every exported function and class (`semantic_weights`,
`semseg_gan_learner`, ...); each notebook's page shows its title cell's text
(nbdev's front-matter pass drops it; docs/build.py puts it back); the Results page is there, with its tables (computed from nbs/results/ at build time)
and links to the lessons that explain them; the site's search, typed into the search box, finds `semantic_weights`;
and the browser asked no host but the local server for anything, and got no error for anything it asked. Two screenshots (a lesson
with math, an API page) are saved and their paths printed.

Run from the repository root in the project's environment: `python .ci/docs_check.py [--site DIR] [--out DIR]`."""
import argparse, ast, functools, re, sys, threading, time
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit, urljoin
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'docs'))   # docs/build.py: the site's sections (`section_of`)
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync']
MUST_HAVE_SECTIONS = {'semantic_discriminator': ['semantic_weights'], 'gan': ['semseg_gan_learner']}

class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

def serve(site:Path):
    srv = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'

# In the page: what the checks need, in one pass over the DOM.
PAGE_STATE = r"""async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip)) continue;
    const t = n.textContent;
    if (/\$[^$\n]+\$/.test(t) || /\\\(|\\\[/.test(t)) raw.push(t.trim().slice(0, 120));
  }
  const math = [...document.querySelectorAll('.math')];
  return {
    broken, raw, images: imgs.length,
    math: math.length, typeset: math.filter(m => m.querySelector('mjx-container')).length,
    mjx: document.querySelectorAll('mjx-container').length,
    // TeX that MathJax could not read: an error node, or an undefined macro (shown in red by the noundefined package)
    texErrors: (window.MathJax && MathJax.startup && MathJax.startup.document ? Array.from(MathJax.startup.document.math) : [])
      .filter(m => /<merror|mathcolor="red"/.test(MathJax.startup.toMML(m.root))).map(m => m.math),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    text: document.querySelector('main, article, body').innerText,
    h2: [...document.querySelectorAll('h2')].map(h => h.textContent.replace(/[#¶]/g, '').trim()),
    tables: document.querySelectorAll('article table').length,
  };
}"""

def module_names(mod):
    "A module's __all__, and which of its names are functions or classes (those get a show_doc section)."
    tree = ast.parse((ROOT/'semseg_gan'/f'{mod}.py').read_text())
    names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, 'id', '') == '__all__' for t in n.targets)), [])
    defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return names, [n for n in names if n in defs]

def notebook_page(nb_path:Path) -> str:
    "The page a notebook becomes: nbdev's page name in docs/build.py's section (index.html, tests/NAME.html, lessons/NAME.html)."
    from nbdev.doclinks import _nbpath2html   # the name nbdev's front matter gives the page (`output-file`)
    from build import section_of
    name = _nbpath2html(nb_path).stem
    return '/'.join(filter(None, [section_of(nb_path.stem, name), name])) + '.html'

def intro_probe(nb_path:Path) -> str:
    "The first few plain words of the title cell's text after its title and description ('' if it has none)."
    sys.path.insert(0, str(ROOT/'docs')); from build import intro
    for text in intro(nb_path).split('\n\n'):   # the first paragraph that has a few plain words
        text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)   # links: their words
        words = re.split(r'[$`*_\\>|#]', text.lstrip('>#*-| '))[0].split()    # up to the first maths, code or emphasis
        if len(words) >= 3: return ' '.join(words[:6])
    return ''

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--site', default=str(ROOT/'docs'/'_build'/'html'))
    ap.add_argument('--out', default=str(ROOT/'docs'/'_build'/'check'), help='folder for the screenshots')
    args = ap.parse_args()
    site, out = Path(args.site), Path(args.out)
    if not (site/'index.html').exists(): sys.exit(f'no site at {site}: build it first with `python docs/build.py`')
    out.mkdir(parents=True, exist_ok=True)
    pages = sorted(str(p.relative_to(site)) for p in site.rglob('*.html') if not p.relative_to(site).parts[0].startswith('_'))
    srv, base = serve(site)
    origin = base.rstrip('/')
    problems, outside, failed, states = [], [], [], {}
    def problem(page, what): problems.append(f'{page}: {what}')
    t0 = time.time()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path='/usr/bin/chromium', headless=True, args=FLAGS)
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            current = ['']
            def on_request(r):
                if not r.url.startswith((origin + '/', 'data:', 'blob:', 'about:')): outside.append(f'{current[0]}: {r.url}')
            page.on('request', on_request)
            page.on('requestfailed', lambda r: failed.append(f'{current[0]}: {r.url} ({r.failure})'))
            page.on('response', lambda r: failed.append(f'{current[0]}: {r.url} (HTTP {r.status})') if r.status >= 400 else None)
            page.on('pageerror', lambda e: problem(current[0], f'JavaScript error: {e}'))
            for rel in pages:
                current[0] = rel
                resp = page.goto(base + rel, wait_until='load')
                if resp is None or resp.status != 200: problem(rel, f'HTTP {resp and resp.status}'); continue
                if page.locator('.math').count():
                    try: page.wait_for_function("() => [...document.querySelectorAll('.math')].every(m => m.querySelector('mjx-container'))", timeout=30_000)
                    except Exception: pass   # reported below, with the counts
                st = states[rel] = page.evaluate(PAGE_STATE)
                for src in st['broken']: problem(rel, f'image does not load: {src}')
                if st['typeset'] < st['math']: problem(rel, f"{st['math'] - st['typeset']} of {st['math']} math elements not typeset")
                for t in st['raw'][:5]: problem(rel, f'raw TeX left in the text: {t!r}')
                for e in st['texErrors'][:5]: problem(rel, f'MathJax error: {e}')

            # links inside the site: to a page that exists, and to an element of it when they name one
            for rel, st in states.items():
                for href in set(st['links']):
                    u = urlsplit(href)
                    if f'{u.scheme}://{u.netloc}' != origin: continue
                    target = u.path.lstrip('/') or 'index.html'
                    if target.endswith('/'): target += 'index.html'
                    if not (site/target).exists(): problem(rel, f'link to a missing file: {href}'); continue
                    if u.fragment and target in states and u.fragment not in states[target]['ids']:
                        problem(rel, f'link to a missing anchor: {href}')

            # the API reference: every exported name listed, a section for every function and class
            api_pages = [p for p in pages if p.startswith('api/') and p != 'api/index.html' and p in states]
            if not api_pages: problem('api/', 'no API pages')
            n_names = 0
            for rel in api_pages:
                mod = Path(rel).stem
                names, defs = module_names(mod)
                st = states[rel]; n_names += len(names)
                missing = [n for n in names if not re.search(rf'(?<![\w.]){re.escape(n)}(?!\w)', st['text'])]
                if missing: problem(rel, f'exported names not listed: {missing}')
                no_section = [n for n in defs if n not in st['h2']]
                if no_section: problem(rel, f'exported functions/classes without a section: {no_section}')
            for mod, names in MUST_HAVE_SECTIONS.items():
                rel = f'api/{mod}.html'
                if rel not in states: problem(rel, 'missing'); continue
                for n in names:
                    if n not in states[rel]['h2']: problem(rel, f'no section for {n}')

            # each notebook's page opens with what its title cell says after the title (nbdev's front-matter pass drops it)
            for nb_path in sorted((ROOT/'nbs').glob('*.ipynb')):
                rel = notebook_page(nb_path)
                probe = intro_probe(nb_path)
                if probe and rel in states and probe not in ' '.join(states[rel]['text'].replace('\u2019', "'").split()):
                    problem(rel, f"the title cell's text is missing (from {nb_path.name}: {probe!r})")

            # the Results page (docs/results_page.py): tables, and links to the lessons that explain the numbers
            st = states.get('results.html')
            if st is None: problem('results.html', 'missing')
            else:
                lessons = {urlsplit(h).path for h in st['links'] if '/lessons/' in h}
                if st['tables'] < 3: problem('results.html', f"{st['tables']} tables (expected one per result file at least)")
                if len(lessons) < 3: problem('results.html', f'links to {len(lessons)} lessons (10, 11 and 12 expected)')

            # search, as a reader uses it: the search box on the home page, then the results page
            current[0] = 'search'
            page.goto(base + 'index.html', wait_until='networkidle')
            box = page.locator('#pst-search-dialog input[name="q"]')
            for attempt in range(3):   # on a loaded machine the page's key handler may not be attached yet: press again
                page.keyboard.press('Control+k')
                try: box.wait_for(state='visible', timeout=10_000); break
                except Exception:
                    if attempt == 2: raise
            box.fill('semantic_weights'); box.press('Enter')
            page.wait_for_url(re.compile(r'search\.html\?q=semantic_weights'), timeout=15_000)
            page.wait_for_function("() => { const s = document.querySelector('#search-results p.search-summary, #search-results .search-summary');"
                                   " return s && !/Preparing search/.test(s.textContent); }", timeout=30_000)
            page.wait_for_load_state('networkidle')   # the result summaries: the search fetches each page it found
            hits = page.eval_on_selector_all('#search-results ul.search li a', 'as => as.map(a => a.getAttribute("href"))')
            hit_pages = sorted({h.split('#')[0].split('?')[0] for h in hits})
            if not any('semantic_discriminator' in h for h in hit_pages):
                problem('search', f'"semantic_weights" does not find the semantic discriminator pages; results: {hit_pages}')

            # evidence: a lesson with math, and an API page at one of its functions
            current[0] = 'screenshots'
            shots = []
            page.goto(base + 'lessons/semantic_discriminator.html', wait_until='networkidle')
            page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=30_000)
            page.locator('article mjx-container').nth(2).scroll_into_view_if_needed()
            page.mouse.wheel(0, -250); time.sleep(0.5)
            shots.append(out/'lesson_semantic_discriminator.png'); page.screenshot(path=str(shots[-1]))
            page.goto(base + 'api/semantic_discriminator.html#semantic_weights', wait_until='networkidle'); time.sleep(0.5)
            shots.append(out/'api_semantic_discriminator.png'); page.screenshot(path=str(shots[-1]))
            browser.close()
    finally:
        srv.shutdown()

    for o in outside[:20]: problem('network', f'request to another host: {o}')
    for f in failed[:20]: problem('network', f'failed request: {f}')
    n_math = sum(s['mjx'] for s in states.values())
    n_img = sum(s['images'] for s in states.values())
    print(f'docs check: {len(states)} pages loaded in {time.time() - t0:.0f} s; {n_math} formulas typeset on '
          f'{sum(1 for s in states.values() if s["mjx"])} pages; {n_img} images loaded; '
          f'{len(api_pages)} API pages list {n_names} exported names; search for "semantic_weights": '
          f'{len(hits)} results on {len(hit_pages)} pages; requests to other hosts: {len(outside)}; failed requests: {len(failed)}')
    print('screenshots:', *map(str, shots), sep='\n  ')
    if problems:
        print(f'\ndocs check FAILED ({len(problems)} problems):', *problems, sep='\n  ')
        sys.exit(1)
    print('docs check passed')

if __name__ == '__main__': main()
