import numpy as np
for d in ('tiny','tiny-wide'):
  for tag in ('acc0','acc4'):
    for t in (1,2):
      py=np.fromfile(f'out_py1311_{d}_{tag}_t{t}.bin',dtype=np.float32)
      row=[]
      for n in ('node1300','node1311'):
        o=np.fromfile(f'out_{n}_{d}_{tag}_t{t}.bin',dtype=np.float32)
        row.append(f'{n}: '+('bit-equal' if np.array_equal(o,py) else f'maxdiff {np.abs(o-py).max():.3g} (of |logit| max {np.abs(py).max():.3g})'))
      print(f'{d:9s} {tag} threads{t} ({py.size} logits, prefill 20 + 5 steps) vs py1.31.1 -> '+'; '.join(row))
