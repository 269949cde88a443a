"""Build the documentation site from the committed, executed notebooks: `python docs/build.py` writes docs/_build/html/.

Quarto, which `nbdev_docs` needs, cannot be installed offline (docs/README.md says why and what this uses instead).
Three steps:

1. nbdev's own processing (`nbdev.serve.proc_nbs`, into `_proc/`): the API reference (`show_doc`) is added after each
   exported definition. Only imports, exported cells and `show_doc` calls run; every other output is shown as committed.
2. A small conversion into `docs/_build/src/`: Quarto's notation (front matter, `#| echo: false`, `{target=...}` link
   attributes, links to `https://<doc_host>/<page>.html#<name>`) becomes what MyST understands; the lessons (every
   `nbs/NN_*.ipynb` below 90, whatever notebooks are there), the test suites, one API page per module, the Markdown
   pages of docs/, and the Results page, written now from the committed result files (docs/results_page.py), are
   laid out.
3. Sphinx (myst-nb, pydata-sphinx-theme; configuration in docs/conf.py), warnings as errors. MathJax 3 is copied into
   the site from the npm package `mathjax@3.2.2` (fetched once with `npm pack` into a cache outside the repository and
   checked against npm's sha512), so that a page loads nothing from another host.

Options: `--force` reprocesses every notebook (by default `_proc/` is reused for notebooks older than their processed
copy), `--workers N` for the notebook processing and Sphinx (default 2). Check the result with `python .ci/docs_check.py`."""
import argparse, ast, base64, hashlib, json, os, re, secrets, shutil, subprocess, sys, tarfile, time
from configparser import ConfigParser
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
BUILD = DOCS/'_build'
SRC, HTML = BUILD/'src', BUILD/'html'
PAGES = ['benchmarks.md', 'README.md']   # docs/ pages, in this order after the notebooks; README.md becomes site.md
MATHJAX = 'mathjax@3.2.2'
MATHJAX_SHA512 = 'Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=='   # npm's dist.integrity
# tex-chtml.js with its fonts, and the TeX extensions it loads on demand (\boldsymbol, \color, ...): ~2 MB of the package
MATHJAX_PARTS = ('es5/tex-chtml.js', 'es5/output/chtml/fonts/woff-v2/', 'es5/input/tex/extensions/')
WIDGET_NOTE = ('*An interactive widget is shown here when the notebook runs (JupyterLab, Colab); '
               'a static page cannot run it.*')

def log(msg): print(f'[docs] {msg}', flush=True)

# ---------------------------------------------------------------------------------------------------------- MathJax
def cache_dir() -> Path:
    return Path(os.environ.get('XDG_CACHE_HOME') or Path.home()/'.cache')/'semseg_gan'

def _sha_ok(path) -> bool:
    return base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode() == MATHJAX_SHA512

def fetch_mathjax(dest:Path):
    "Copy MathJax's tex-chtml.js, fonts and TeX extensions into `dest/mathjax/`, fetching the npm package once."
    tgz = cache_dir()/'mathjax-3.2.2.tgz'
    if not (tgz.exists() and _sha_ok(tgz)):
        if not shutil.which('npm'):
            sys.exit(f'[docs] MathJax is not in {tgz} and npm is not installed to fetch it: install npm (Debian: '
                     f'apt-get install npm), or put the tarball of {MATHJAX} from another machine at {tgz}')
        tgz.parent.mkdir(parents=True, exist_ok=True)
        log(f'fetching {MATHJAX} with npm into {tgz.parent}')
        subprocess.run(['npm', 'pack', MATHJAX, '--pack-destination', str(tgz.parent), '--silent'], check=True,
                       stdout=subprocess.DEVNULL)
        if not _sha_ok(tgz): sys.exit(f'[docs] {tgz} does not match the sha512 npm publishes for {MATHJAX}: delete it and retry')
    n = 0
    with tarfile.open(tgz) as tf:
        for m in tf.getmembers():
            rel = m.name.removeprefix('package/')
            if not (m.isfile() and rel.startswith(MATHJAX_PARTS)) or '..' in Path(rel).parts: continue
            out = dest/'mathjax'/rel.removeprefix('es5/')
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tf.extractfile(m).read()); n += 1
    log(f'MathJax: {n} files from {tgz.name}')

# ------------------------------------------------------------------------------------------------ nbdev's processing
def process(force:bool, workers:int) -> Path:
    "nbdev's show_doc pass over nbs/ into _proc/ (only notebooks newer than their processed copy, unless `force`)."
    os.environ.setdefault('MPLBACKEND', 'Agg'); os.environ.setdefault('OMP_NUM_THREADS', '1')
    from nbdev.doclinks import _build_modidx
    from nbdev.serve import proc_nbs
    # nbdev warns of every cell that holds an import and other code (the whole cell runs in this pass); quiet here, in
    # the worker processes too: when such a cell needs an earlier cell's state, the pass fails and the error names it
    os.environ['PYTHONWARNINGS'] = ','.join(filter(None, [os.environ.get('PYTHONWARNINGS'),
                                                          'ignore:Found cells containing imports and other code']))
    _build_modidx()
    t = time.time()
    try: proc = proc_nbs(n_workers=workers, force=force)
    except Exception as e: sys.exit(pass_failed(e))
    log(f"nbdev's show_doc pass: {time.time() - t:.0f} s ({proc})")
    return Path(proc)

def pass_failed(e) -> str:
    "What failed in the show_doc pass, in a few lines: the notebook, the cell, the error, and the usual fix."
    msg = str(e)
    cell = msg.split(' :\n', 1)[1].strip() if ' :\n' in msg else ''
    nbs = [p.name for p in sorted((ROOT/'nbs').glob('*.ipynb')) if cell and any(
        src(c).strip() == cell for c in json.loads(p.read_text())['cells'])]
    errors = re.findall(r'^(\w+(?:Error|Exception|Skipped)\b.*)$', str(e.__cause__), re.M)
    return (f"[docs] nbdev's show_doc pass failed in {' or '.join(nbs) or 'a notebook'}: {errors[0] if errors else repr(e.__cause__)}\n"
            f"{msg}\n\nThis pass runs every cell that contains an import (with the exported cells and the show_doc calls), "
            "without the cells in between: move the import into an imports-only cell (e.g. the notebook's imports cell).")

# ------------------------------------------------------------------------------------------------------- conversion
def src(cell): return ''.join(cell.get('source', ''))
def md_cell(text): return {'cell_type': 'markdown', 'id': secrets.token_hex(4), 'metadata': {}, 'source': text}
def heading_texts(text): return re.findall(r'^#{1,6}\s+(.+?)\s*#*\s*$', re.sub(r'```.*?```', '', text, flags=re.S), re.M)
def pandoc_id(text): return re.sub(r'[^\w.\-]', '', re.sub(r'\s+', '-', text.strip().lower()))   # Quarto's anchor

def front_matter(nb) -> dict:
    import yaml
    c = nb['cells'][0]
    if c['cell_type'] == 'raw' and src(c).startswith('---'): return yaml.safe_load(src(c).strip().strip('-')) or {}
    return {}

def section_of(stem:str, name:str) -> str:
    "The site section of notebook `stem` whose page is `name`: '' for the home page, 'tests' from 90 on, else 'lessons'."
    m = re.match(r'(\d+)_', stem)
    return '' if name == 'index' else 'tests' if m and int(m[1]) >= 90 else 'lessons'

def intro(nb_path:Path) -> str:
    """What the notebook's title cell says after its title and `> description`: nbdev's front-matter pass turns that
    cell into the page's title and description and drops the rest, so the page puts it back under its title."""
    cell = next((c for c in json.loads(nb_path.read_text())['cells'] if c['cell_type'] == 'markdown'), None)
    if cell is None or not re.match(r'\s*#\s', src(cell)): return ''
    paras = re.split(r'\n\s*\n', src(cell).strip())
    paras[0] = re.sub(r'^#\s.*\n?', '', paras[0])              # the title line
    if len(paras[0]) == 0 and len(paras) > 1 and paras[1].startswith('>'): paras.pop(1)   # the description
    return '\n\n'.join(p for p in paras if p.strip())

def directives(code:str):
    "Split the leading `#| key: value` lines off a code cell."
    lines, d = code.splitlines(), {}
    while lines and (m := re.match(r'#\|\s*([\w-]+):?\s*(.*)$', lines[0])):
        d[m[1]] = m[2].strip().strip('"\''); lines.pop(0)
    return d, '\n'.join(lines)

class Site:
    "The pages: notebook stem -> (section, page name, title, description, module); the anchors of every page."
    def __init__(self, proc:Path):
        cfg = ConfigParser(); cfg.read(ROOT/'settings.ini'); s = cfg['DEFAULT']
        self.doc_base = (s['doc_host'] + s['doc_baseurl']).rstrip('/')
        self.lib = s['lib_name']
        self.proc, self.pages, self.anchors = proc, {}, {}
        for nb_path in sorted((ROOT/s['nbs_path']).glob('*.ipynb')):
            p = proc/nb_path.name
            if not p.exists(): sys.exit(f'[docs] {p} is missing: run with --force')
            nb = json.loads(p.read_text())
            fm = front_matter(nb)
            name = Path(fm.get('output-file', nb_path.stem + '.html')).stem
            section = section_of(nb_path.stem, name)
            exp = re.search(r'^#\|\s*default_exp\s+(\S+)', '\n'.join(src(c) for c in json.loads(nb_path.read_text())['cells']), re.M)
            self.pages[nb_path.stem] = dict(nb=nb, section=section, name=name, title=fm.get('title', name),
                                            description=fm.get('description', ''), module=exp[1] if exp else None,
                                            intro=intro(nb_path))
            texts = [t for c in nb['cells'] for t in heading_texts(src(c) if c['cell_type'] == 'markdown' else '')]
            texts += [t for c in nb['cells'] for o in c.get('outputs', []) for t in heading_texts(''.join(o.get('data', {}).get('text/markdown', '')))]
            self.anchors[name] = {pandoc_id(t): t for t in texts}
        self.by_name = {p['name']: p for p in self.pages.values()}

    def doc(self, page) -> str: return '/' + '/'.join(filter(None, [page['section'], page['name']]))

    def link(self, name, anchor=''):
        "A MyST link target for nbdev's `<page>.html#<anchor>`: the staged page, and the anchor where that page has it."
        from myst_parser.mdit_to_docutils.base import default_slugify
        page = self.by_name.get(name)
        if page is None: return None
        text = self.anchors[name].get(anchor.lower())
        return self.doc(page) + '.ipynb' + (f'#{default_slugify(text)}' if text else '')

    def fix_markdown(self, text:str, in_cell=False) -> str:
        text = re.sub(r'(\]\([^)\s]*\))\{[^}]*\}', r'\1', text)   # Pandoc link attributes: {target="_blank" ...}
        def local(m):
            target = self.link(m[1], m[2] or '')
            return f']({target})' if target else m[0]
        text = re.sub(r'\]\(' + re.escape(self.doc_base) + r'/([\w.-]+)\.html(?:#([^)\s]*))?\)', local, text)
        if in_cell:   # `00_core` and `docs/benchmarks.md` in prose: links to their pages
            def nb_link(m):
                page = self.pages.get(m[1])
                return f'[`{m[1]}`]({self.doc(page)}.ipynb)' if page else m[0]
            text = re.sub(r'(?<![\[\w])`(\d\d[a-z]?_\w+)`(?!\]\()', nb_link, text)
            text = re.sub(r'(?<![\[\w])`docs/([\w-]+\.md)`(?!\]\()',
                          lambda m: f'[`docs/{m[1]}`](/{m[1]})' if m[1] in PAGES and m[1] != 'README.md' else m[0], text)
        return text

    def fix_output(self, out):
        data = out.get('data', {})
        if 'application/vnd.jupyter.widget-view+json' in data:
            out['data'] = {'text/markdown': WIDGET_NOTE}
        elif 'text/markdown' in data:
            md = re.sub(r'^\s*---\s*\n', '', ''.join(data['text/markdown']))   # show_doc's rule: a docutils error here
            # show_doc's [source] link floats right of the heading in Quarto; here it goes under the heading
            md = re.sub(r'^\s*(\[source\]\([^)]*\)(?:\{[^}]*\})?)\s*\n+(#{1,6} [^\n]*)\n', r'\2\n\n\1\n', md)
            data['text/markdown'] = self.fix_markdown(md)
        return out

    def notebook(self, page) -> dict:
        "The processed notebook in MyST's terms."
        nb, cells = json.loads(json.dumps(page['nb'])), []
        here = lambda text: re.sub(r'\]\(#([^)\s]+)\)', lambda m: f"]({self.link(page['name'], m[1])})", text)   # [x](#name): this page's anchor
        nb['metadata'].pop('widgets', None)   # widget state: nothing on a static page uses it
        for c in nb['cells']:
            text = src(c)
            if c['cell_type'] == 'raw' and text.startswith('---'):
                head = f"# {page['title']}\n"
                if page['description']: head += f"\n> {page['description']}\n"
                if page['intro']: head += f"\n{page['intro']}\n"
                cells.append(md_cell(here(self.fix_markdown(head, in_cell=True)))); continue
            if c['cell_type'] == 'markdown':
                if 'THIS FILE WAS AUTOGENERATED' in text: continue
                c['source'] = here(self.fix_markdown(text, in_cell=True))
            elif c['cell_type'] == 'code':
                d, body = directives(text)
                if d.get('include') == 'false': continue
                tags = c['metadata'].setdefault('tags', [])
                if d.get('echo') == 'false' or not body.strip(): tags.append('remove-input')
                elif 'code-fold' in d: tags.append('hide-input')
                if d.get('output') == 'false': c['outputs'] = []
                c['outputs'] = [self.fix_output(o) for o in c.get('outputs', [])]
                if 'remove-input' in tags and not c['outputs']: continue
                c['source'] = body
            cells.append(c)
        nb['cells'] = cells
        return nb

    def api_page(self, page) -> str:
        "One module's reference: its exported names, then every show_doc of its notebook, in order."
        mod = f"{self.lib}.{page['module']}"
        tree = ast.parse((ROOT/self.lib/(page['module'].replace('.', '/') + '.py')).read_text())
        names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                      and any(getattr(t, 'id', '') == '__all__' for t in n.targets)), [])
        docs = []
        for c in page['nb']['cells']:
            if c['cell_type'] != 'code' or 'show_doc(' not in src(c): continue
            for o in c.get('outputs', []):
                md = ''.join(o.get('data', {}).get('text/markdown', ''))
                if md: docs.append(re.sub(r'^###', '##', self.fix_output({'data': {'text/markdown': md}})['data']['text/markdown'], flags=re.M))
        shown = {pandoc_id(t) for d in docs for t in heading_texts(d)}
        listed = ', '.join(f'[`{n}`](#{n.lower()})' if n.lower() in shown else f'`{n}`' for n in names)
        return (f"# {mod}\n\nThe reference of `{mod}`, as nbdev's `show_doc` renders it. The lesson "
                f"[{page['title']}]({self.doc(page)}.ipynb) explains each piece beside its equation, with examples and tests.\n\n"
                f"**Exported names** (`__all__`, {len(names)}): {listed or 'none'}\n\n" + '\n\n'.join(docs) + '\n')

def toctree(entries, hidden=True, caption=None):
    opts = (':hidden:\n' if hidden else '') + (f':caption: {caption}\n' if caption else '') + ':titlesonly:\n'
    return '```{toctree}\n' + opts + '\n' + '\n'.join(entries) + '\n```\n'

def table_md(rows, head):
    return f'| {head[0]} | {head[1]} |\n|---|---|\n' + ''.join(f'| {a} | {b} |\n' for a, b in rows)

def stage(site:Site):
    "Write the pages Sphinx reads into docs/_build/src/ (MathJax already in its _static/)."
    for p in SRC.iterdir():
        if p.name != '_static': shutil.rmtree(p) if p.is_dir() else p.unlink()
    for sec in ('lessons', 'tests', 'api'): (SRC/sec).mkdir()
    pages = list(site.pages.values())
    for page in pages:
        nb = site.notebook(page)
        if page['name'] == 'index':
            nb['cells'].append(md_cell(toctree(['lessons/index', 'api/index', 'benchmarks', 'results', 'site'])))
        (SRC/page['section']/(page['name'] + '.ipynb')).write_text(json.dumps(nb, indent=1, ensure_ascii=False))
    desc = lambda p: site.fix_markdown(p['description'].replace('\n', ' ').replace('|', '\\|'), in_cell=True)
    lessons = [p for p in pages if p['section'] == 'lessons']
    tests = [p for p in pages if p['section'] == 'tests']
    (SRC/'lessons'/'index.md').write_text(
        '# Lessons\n\nEach notebook in `nbs/` explains one piece of the method beside its equation, tests it, and exports '
        'it to the library. The pages show the notebooks as committed, with their outputs; open a notebook in '
        'JupyterLab or Colab to run it.\n\n'
        + table_md([(f"[{p['title']}]({p['name']}.ipynb)", desc(p)) for p in lessons], ('lesson', 'what it teaches'))
        + '\n## The test suites\n\nThree notebooks hold the pytest suites that `nbdev_test` runs with everything else:\n\n'
        + table_md([(f"[{p['title']}](/tests/{p['name']}.ipynb)", desc(p)) for p in tests], ('notebook', 'what it checks'))
        + '\n' + toctree([p['name'] for p in lessons], caption='Lessons')
        + toctree([f"/tests/{p['name']}" for p in tests], caption='The test suites'))
    mods = [p for p in pages if p['module']]
    for p in mods: (SRC/'api'/(p['module'] + '.md')).write_text(site.api_page(p))
    (SRC/'api'/'index.md').write_text(
        f"# API reference\n\nOne page per module of `{site.lib}`: its exported names, and each function and class "
        "with its signature, its arguments and their documentation, as nbdev's `show_doc` renders them in the lessons.\n\n"
        + table_md([(f"[`{site.lib}.{p['module']}`]({p['module']}.md)", f"lesson: [{p['title']}]({site.doc(p)}.ipynb)")
                    for p in mods], ('module', 'explained in'))
        + '\n' + toctree([p['module'] for p in mods]))
    for name in PAGES:
        shutil.copy(DOCS/name, SRC/('site.md' if name == 'README.md' else name))
    t = time.time()
    sys.path.insert(0, str(DOCS))
    from results_page import results_page   # the numbers, computed from nbs/results/ now
    (SRC/'results.md').write_text(site.fix_markdown(results_page(), in_cell=True))
    log(f'staged {len(pages)} notebooks, {len(mods)} API pages, {len(PAGES)} pages and the Results page '
        f'({time.time() - t:.0f} s) into {SRC}')

def sphinx(workers:int):
    if HTML.exists(): shutil.rmtree(HTML)
    cmd = [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-E', '-q', '-b', 'html', '-j', str(workers),
           '-c', str(DOCS), '-d', str(BUILD/'doctrees'), str(SRC), str(HTML)]
    t = time.time()
    r = subprocess.run(cmd)
    if r.returncode: sys.exit(f'[docs] Sphinx failed (warnings are errors): see above. Command: {" ".join(cmd)}')
    log(f'Sphinx: {time.time() - t:.0f} s')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--force', action='store_true', help='reprocess every notebook (ignore the _proc/ cache)')
    ap.add_argument('--workers', type=int, default=2, help='processes for the notebook pass and for Sphinx')
    args = ap.parse_args()
    t = time.time()
    os.chdir(ROOT)
    (SRC/'_static').mkdir(parents=True, exist_ok=True)
    fetch_mathjax(SRC/'_static')
    site = Site(process(args.force, args.workers))
    stage(site)
    sphinx(args.workers)
    n = len(list(HTML.rglob('*.html')))
    log(f'site: {HTML/"index.html"} ({n} HTML files, {time.time() - t:.0f} s in all); '
        f'view it with: python -m http.server -d {HTML.relative_to(ROOT)} -b 127.0.0.1 8000')

if __name__ == '__main__': main()
