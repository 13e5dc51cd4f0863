#!/usr/bin/env python3
"""How much of the context memory an exact search with a principal-component lower bound must still measure.

For an orthonormal P (r x d, the memory's top r principal components), |P(q - b)|^2 <= |q - b|^2: the projected
distance is a lower bound of the exact one. A best-first exact 1-NN search measures exactly every memory row
whose bound is below the query's exact nearest distance (and no other, at best), so the fraction of such rows
is the least exact work it can do; the projected pass itself costs r/d of the flat search's product.

    python3 scripts/bench-context-bound.py MODEL_DIR QUERIES.f32 [MODEL_DIR QUERIES.f32 ...]

    python3 scripts/bench-context-bound.py --projection MODEL_DIR P.f32

QUERIES.f32 from scripts/bench-context-queries.mjs (the test clips' contexts, every 10th used). Distances in
float64 with numpy; prints, per r, the rows measured exactly per query (median, mean, p95) and the flops of
projected pass plus exact rows as a fraction of the flat search's.
"""
import json
import os
import sys

import numpy as np

args = sys.argv[1:]
if args[:1] == ['--projection']:
    # The memory's top 128 principal components, [128, 640] float32, for scripts/bench-context-bound.cc.
    model, out = args[1], args[2]
    B = np.fromfile(os.path.join(model, 'context.bank.f32'), dtype=np.float32).reshape(-1, 640).astype(np.float64)
    V = np.linalg.eigh(np.cov(B.T))[1][:, ::-1]
    V[:, :128].T.astype(np.float32).tofile(out)
    sys.exit(0)
if not args or len(args) % 2:
    sys.exit(__doc__)
for model, queries in zip(args[::2], args[1::2]):
    with open(os.path.join(model, 'model.json')) as f:
        meta = json.load(f)
    d = meta['config']['mel']['nMels'] * meta['parts']['context']['frames']
    bank = np.fromfile(os.path.join(model, 'context.bank.f32'), dtype=np.float32)
    B = bank.reshape(-1, d).astype(np.float64)
    Q = np.fromfile(queries, dtype=np.float32).reshape(-1, d).astype(np.float64)[::10]
    w, V = np.linalg.eigh(np.cov(B.T))
    V = V[:, ::-1]
    best = ((Q**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * Q @ B.T).min(1)
    print(f'{os.path.basename(model.rstrip("/"))}: {len(B)} rows x {d}, {len(Q)} queries')
    for r in (32, 64, 96, 128):
        QP, BP = Q @ V[:, :r], B @ V[:, :r]
        bound = (QP**2).sum(1)[:, None] + (BP**2).sum(1)[None, :] - 2 * QP @ BP.T
        n = (bound <= best[:, None]).sum(1)
        print(
            f'  r {r:3d}: exact rows per query median {np.median(n):.0f}, mean {n.mean():.0f} '
            f'({100 * n.mean() / len(B):.1f} %), p95 {np.percentile(n, 95):.0f}; '
            f'flops vs flat {r / d + n.mean() / len(B):.2f}; variance kept {w[::-1][:r].sum() / w.sum():.2f}'
        )
