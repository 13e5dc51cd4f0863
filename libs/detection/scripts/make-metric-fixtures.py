#!/usr/bin/python3
"""Golden values for libs/detection metrics and calibration, from scikit-learn / scipy / numpy.

Run with Debian's python (it has sklearn, scipy, numpy), from the repository root:

    /usr/bin/python3 libs/detection/scripts/make-metric-fixtures.py

Writes test/fixtures/metrics/{clip,pixel,components}.json and test/fixtures/calibration/gamma.json.
Inputs are seeded, so re-running gives identical files (up to library versions, recorded in each file).
"""
import json
import os
import sys

import numpy as np
import scipy
import sklearn
from scipy import ndimage, stats
from sklearn.metrics import roc_auc_score, roc_curve

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "test", "fixtures")
VERSIONS = {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
            "sklearn": sklearn.__version__}
MAX_FPRS = [0.05, 0.1, 0.3, 0.5, 1.0]


def write(sub, name, payload):
    path = os.path.join(FIXTURES, sub, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"generatedBy": "libs/detection/scripts/make-metric-fixtures.py", "versions": VERSIONS,
                   **payload}, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.relpath(path))


def clip_cases(rng):
    cases = []

    def add(name, y, s):
        y = np.asarray(y, dtype=int)
        s = np.asarray(s, dtype=float)
        fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
        cases.append({
            "name": name, "labels": y.tolist(), "scores": s.tolist(),
            "auc": roc_auc_score(y, s),
            "pauc": {str(m): roc_auc_score(y, s, max_fpr=m) for m in MAX_FPRS},
            "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr[1:].tolist()},
        })

    y = np.r_[np.zeros(50), np.ones(30)]
    add("gaussian overlap, ties from 1-decimal rounding", y,
        np.round(np.r_[rng.normal(0, 1, 50), rng.normal(0.8, 1, 30)], 1))
    add("all scores equal", y, np.full(80, 0.25))
    add("perfect separation", y, np.r_[rng.uniform(0, 1, 50), rng.uniform(2, 3, 30)])
    add("inverted separation", y, np.r_[rng.uniform(2, 3, 50), rng.uniform(0, 1, 30)])
    yu = np.r_[np.zeros(200), np.ones(3)]
    add("unbalanced 3 anomalies vs 200 normals, ties", yu,
        np.round(np.r_[rng.gamma(2, 1, 200), rng.gamma(4, 1, 3)], 0))
    yi = rng.permutation(np.r_[np.zeros(10), np.ones(12)])
    add("integer scores 0..3, shuffled, DCASE-sized", yi, rng.integers(0, 4, 22) + yi)
    add("unbalanced 40 anomalies vs 7 normals", np.r_[np.zeros(7), np.ones(40)],
        np.r_[rng.normal(0, 1, 7), rng.normal(1.5, 1, 40)])
    return cases


def mvtec_pro_curve(maps, masks):
    """(FPR, PRO) at every distinct threshold, descending, from (0, 0) -- MVTec AD's compute_pro, in float64."""
    structure = np.ones((3, 3), dtype=int)  # 8-connectivity
    fp_step, pro_step = [], []
    n_ok, n_regions = 0, 0
    for mask in masks:
        labeled, n = ndimage.label(mask, structure)
        n_regions += n
        ok = labeled == 0
        n_ok += int(ok.sum())
        fp_step.append(ok.astype(float).ravel())
        pro = np.zeros(mask.shape)
        for k in range(1, n + 1):
            region = labeled == k
            pro[region] = 1.0 / region.sum()
        pro_step.append(pro.ravel())
    scores = np.concatenate([m.ravel() for m in maps])
    order = np.argsort(-scores, kind="stable")
    scores = scores[order]
    fprs = np.cumsum(np.concatenate(fp_step)[order]) / n_ok
    pros = np.cumsum(np.concatenate(pro_step)[order]) / n_regions
    last_of_tie = np.append(np.diff(scores) != 0, True)
    return np.r_[0.0, fprs[last_of_tie]], np.r_[0.0, pros[last_of_tie]]


def trapezoid_to(x, y, x_max):
    """Trapezoid area for x <= x_max, with y linearly interpolated at x_max (MVTec AD's trapezoid)."""
    keep = x <= x_max
    area = np.trapz(y[keep], x[keep])
    if x_max not in x:
        i = np.searchsorted(x, x_max, side="right")
        y_at = y[i - 1] + (y[i] - y[i - 1]) * (x_max - x[i - 1]) / (x[i] - x[i - 1])
        area += 0.5 * (y_at + y[i - 1]) * (x_max - x[i - 1])
    return area


def aupro_reference(maps, masks, limit):
    fpr, pro = mvtec_pro_curve(maps, masks)
    return trapezoid_to(fpr, pro, limit) / limit


def box_mask(shape, boxes):
    mask = np.zeros(shape, dtype=np.uint8)
    for m0, m1, t0, t1 in boxes:
        mask[m0:m1, t0:t1] = 1
    return mask


def pixel_cases(rng):
    cases = []
    shape = (16, 24)  # [nMels, nFrames]

    def add(name, maps, masks):
        maps = [np.asarray(m, dtype=np.float32).astype(np.float64) for m in maps]  # float32 scores
        labels = np.concatenate([m.ravel() for m in masks])
        scores = np.concatenate([m.ravel() for m in maps])
        cases.append({
            "name": name, "nMels": shape[0], "nFrames": shape[1],
            "maps": [m.ravel().tolist() for m in maps],
            "masks": [m.ravel().astype(int).tolist() if m.any() else None for m in masks],
            "pixelAuc": roc_auc_score(labels, scores),
            "aupro": {str(l): aupro_reference(maps, masks, l) for l in [0.3, 0.1, 1.0]},
            "regions": int(sum(ndimage.label(m, np.ones((3, 3), dtype=int))[1] for m in masks)),
        })

    masks = [box_mask(shape, []), box_mask(shape, []),
             box_mask(shape, [(2, 6, 3, 9), (10, 14, 15, 22)]),  # two separate regions
             box_mask(shape, [(0, 16, 5, 7)]),  # full-height band
             box_mask(shape, [(4, 6, 4, 6), (6, 8, 6, 8)])]  # touch diagonally: one 8-connected region
    signal = [0.0, 0.0, 1.5, 0.7, 2.5]
    maps = [rng.normal(0, 1, shape) + signal[i] * masks[i] for i in range(len(masks))]
    add("gaussian maps, boxes incl. diagonal touch", maps, masks)
    add("rounded maps (many ties)", [np.round(m, 1) for m in maps], masks)
    add("coarse maps (integer scores, heavy ties)", [np.round(m) for m in maps], masks)
    add("perfect maps", [m.astype(float) + rng.uniform(0, 0.1, shape) for m in masks], masks)
    rand_masks = [(rng.uniform(0, 1, shape) < p).astype(np.uint8) for p in [0.0, 0.05, 0.2]]
    add("speckle masks (many tiny regions)", [rng.normal(0, 1, shape) + 0.8 * m for m in rand_masks], rand_masks)
    return cases


def component_cases(rng):
    out = []
    for p in [0.3, 0.5, 0.6]:
        mask = (rng.uniform(0, 1, (20, 30)) < p).astype(np.uint8)
        labeled, n = ndimage.label(mask, np.ones((3, 3), dtype=int))
        out.append({"rows": 20, "cols": 30, "mask": mask.ravel().tolist(), "labels": labeled.ravel().tolist(),
                    "count": int(n)})
    return out


def calibration_cases(rng):
    fits = []
    for shape, scale, n in [(0.7, 2.0, 40), (2.0, 0.5, 5), (4.0, 1.3, 20), (12.0, 0.05, 200), (80.0, 3.0, 60)]:
        x = rng.gamma(shape, scale, n)
        a, loc, sc = stats.gamma.fit(x, floc=0)
        a_free, loc_free, sc_free = stats.gamma.fit(x)
        fits.append({"scores": x.tolist(), "shape": a, "scale": sc,
                     "ppf99": stats.gamma.ppf(0.99, a, loc=0, scale=sc),
                     "quantiles": {str(q): float(np.quantile(x, q)) for q in [0.5, 0.9, 0.99]},
                     "freeLocFit": {"shape": a_free, "loc": loc_free, "scale": sc_free},
                     "mean": float(np.mean(x)), "std": float(np.std(x))})
    ppf = []
    for a in [0.1, 0.5, 1.0, 1.7, 3.0, 10.0, 55.5, 300.0, 2000.0]:
        for q in [1e-6, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.999999]:
            ppf.append({"a": a, "q": q, "x": stats.gamma.ppf(q, a), "p": stats.gamma.cdf(stats.gamma.ppf(q, a), a)})
    cdf = [{"a": a, "x": x, "p": stats.gamma.cdf(x, a)}
           for a in [0.3, 1.0, 2.5, 20.0, 150.0] for x in [1e-3, 0.5, 1.0, 2.5, 10.0, 25.0, 160.0]]
    return {"fits": fits, "ppf": ppf, "cdf": cdf}


def main():
    rng = np.random.default_rng(20240521)
    write("metrics", "clip.json", {"cases": clip_cases(rng)})
    write("metrics", "pixel.json", {"cases": pixel_cases(rng)})
    write("metrics", "components.json", {"cases": component_cases(rng)})
    write("calibration", "gamma.json", calibration_cases(rng))


if __name__ == "__main__":
    main()
