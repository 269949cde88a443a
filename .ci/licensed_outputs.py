"""Pictures made from the real datasets must not be committed (their terms forbid redistribution).

A notebook cell that draws such a picture carries the comment `# licensed-data figure`. This script removes the
outputs of those cells (`python .ci/licensed_outputs.py strip nbs/*.ipynb`) and, in CI, fails if any of them
still holds an output (`python .ci/licensed_outputs.py check nbs/*.ipynb`)."""
import json, sys
from pathlib import Path
MARK = '# licensed-data figure'

def main(mode, paths):
    bad = []
    for p in paths:
        nb = json.loads(Path(p).read_text()); changed = False
        for i, c in enumerate(nb['cells']):
            if c['cell_type'] == 'code' and MARK in ''.join(c['source']) and c.get('outputs'):
                if mode == 'strip': c['outputs'] = []; changed = True
                else: bad.append(f'{p} cell {i}')
        if changed: Path(p).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    if bad: sys.exit('outputs of licensed-data figures are committed (run .ci/licensed_outputs.py strip):\n  ' + '\n  '.join(bad))

if __name__ == '__main__': main(sys.argv[1], sys.argv[2:])
