#!/usr/bin/python3
"""Golden values for libs/detection/src/components, from torch and scipy (run once, commit the output).

Usage: /usr/bin/python3 libs/detection/scripts/make-component-fixtures.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

out_dir = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "components")
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(3)

x = rng.standard_normal((3, 5, 7)).astype(np.float32)
t = torch.from_numpy(x)[None]
pooled = F.avg_pool2d(t, 3, 1, 1)[0].numpy()
up = F.interpolate(t, size=(11, 16), mode="bilinear", align_corners=False)[0].numpy()
down = F.interpolate(t, size=(3, 4), mode="bilinear", align_corners=False)[0].numpy()
m = rng.standard_normal((20, 31)).astype(np.float32)
blur = ndimage.gaussian_filter(m.astype(np.float64), sigma=(2.0, 3.0), mode="mirror", truncate=4.0)

fixtures = {
    "input": {"shape": list(x.shape), "data": x.ravel().tolist()},
    "avgPool3x3": pooled.ravel().tolist(),
    "resizeUp": {"shape": [3, 11, 16], "data": up.ravel().tolist()},
    "resizeDown": {"shape": [3, 3, 4], "data": down.ravel().tolist()},
    "blur": {"shape": [20, 31], "sigmaY": 2.0, "sigmaX": 3.0, "input": m.ravel().tolist(), "output": blur.ravel().tolist()},
}
with open(os.path.join(out_dir, "components.json"), "w") as f:
    json.dump(fixtures, f)
print("wrote", os.path.join(out_dir, "components.json"))
