"""Write README.md from nbs/index.ipynb (nbdev's own `nbdev_readme` needs Quarto, which these machines lack).

Markdown cells are copied; code cells are shown as Python blocks (cells marked `#| hide` are left out, nbdev
directives are dropped); text outputs follow as plain blocks and images are written to docs/images/.
Run from the repository root: `python .ci/readme.py` (or `--check` to fail when README.md is out of date)."""
import base64, json, re, sys
from pathlib import Path

def render(nb_path='nbs/index.ipynb', img_dir='docs/images'):
    nb, parts, n_img = json.loads(Path(nb_path).read_text()), [], 0
    Path(img_dir).mkdir(parents=True, exist_ok=True)
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown': parts.append(src); continue
        if re.search(r'^#\|\s*hide\b', src, re.M) and not re.search(r'^#\|\s*echo:\s*false', src, re.M):
            continue
        code = '\n'.join(l for l in src.split('\n') if not l.startswith('#|')).strip()
        if code and not re.search(r'^#\|\s*echo:\s*false', src, re.M): parts.append(f'```python\n{code}\n```')
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if 'image/png' in data:
                n_img += 1
                f = Path(img_dir)/f'readme_{n_img}.png'
                f.write_bytes(base64.b64decode(data['image/png']))
                parts.append(f'![figure {n_img}]({f.as_posix()})')
            elif 'text/markdown' in data: parts.append(''.join(data['text/markdown']))
            elif 'text/plain' in data: parts.append('```\n' + ''.join(data['text/plain']).rstrip() + '\n```')
            elif out.get('output_type') == 'stream': parts.append('```\n' + ''.join(out['text']).rstrip() + '\n```')
    stale = [f for f in Path(img_dir).glob('readme_*.png') if f.stem.removeprefix('readme_').isdigit() and int(f.stem.removeprefix('readme_')) > n_img]   # from an older README
    return '<!-- generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file -->\n\n' + '\n\n'.join(parts) + '\n', stale

if __name__ == '__main__':
    text, stale = render()
    if '--check' in sys.argv:
        if Path('README.md').read_text() != text: sys.exit('README.md is out of date: run `python .ci/readme.py`')
        if stale: sys.exit(f"{', '.join(map(str, stale))}: no longer in README.md: run `python .ci/readme.py`, which removes them")
    else:
        Path('README.md').write_text(text)
        for f in stale: f.unlink()
