# Sphinx configuration of the documentation site. Build with `python docs/build.py` (it stages the pages in
# docs/_build/src/ and runs Sphinx with this file); docs/README.md says why this toolchain.
from configparser import ConfigParser
from pathlib import Path

DOCS = Path(__file__).resolve().parent
_cfg = ConfigParser(); _cfg.read(DOCS.parent/'settings.ini'); _s = _cfg['DEFAULT']

project = _s['lib_name']
author = _s['author']
copyright = _s['copyright']
version = release = _s['version']

extensions = ['myst_nb']   # Markdown and notebooks (myst-parser comes with it)
exclude_patterns = ['_static']
html_static_path = [str(DOCS/'_build'/'src'/'_static')]   # MathJax, copied there by build.py

# the notebooks are shown as committed: nothing runs here
nb_execution_mode = 'off'
# Markdown outputs (show_doc's signatures and argument tables, the README's result tables) parsed as MyST, so that
# their tables, math and links render (with 'commonmark' the tables stay text)
nb_render_markdown_format = 'myst'
nb_merge_streams = True
nb_ipywidgets_js = {}      # no require.js / widget manager from a CDN: a static page cannot run a widget anyway
myst_enable_extensions = ['dollarmath', 'amsmath']
myst_heading_anchors = 3   # `page.ipynb#one_hot` links resolve to show_doc's headings, and are checked

# MathJax 3 from the site itself (relative to _static/), never from a CDN
mathjax_path = 'mathjax/tex-chtml.js'

html_theme = 'pydata_sphinx_theme'
html_title = f'{project} {version}'
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    'navbar_align': 'left',
    'header_links_before_dropdown': 5,
    'show_toc_level': 2,
    'navigation_with_keys': False,
    'secondary_sidebar_items': ['page-toc'],
    'footer_start': ['copyright'],
    'footer_end': ['sphinx-version', 'theme-version'],
}
