import numpy as np
K=2048
for acc in (0,4):
  for t in (1,2):
    for M in (1,16,150):
      py=np.fromfile(f'out_py1311_acc{acc}_t{t}_M{M}.bin',dtype=np.float32)
      row=[]
      for n in ('node1300','node1311'):
        o=np.fromfile(f'out_{n}_acc{acc}_t{t}_M{M}.bin',dtype=np.float32)
        d=np.abs(o-py).max(); row.append(f'{n}: {"bit-equal" if np.array_equal(o,py) else "maxdiff %.3g"%d}')
      ref0=np.fromfile(f'out_py1311_acc0_t{t}_M{M}.bin',dtype=np.float32)
      print(f'acc{acc} threads{t} M={M:3d} vs py1.31.1 -> ' + '; '.join(row) + (f'; py acc4 vs acc0 maxdiff {np.abs(py-ref0).max():.3g}' if acc==4 else ''))
