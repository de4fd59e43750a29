#!/usr/bin/env python3
"""Reference values for tests/test_kde_pareto.c, computed with SciPy:
densities of scipy.stats.gaussian_kde(x, bw_method='silverman') at the
samples themselves, and the acceptance probabilities 1/(density + 1e-7)
normalised. Run: python3 tests/kde_reference.py (needs python3-scipy)."""
import numpy as np
from scipy.stats import gaussian_kde

cases = {
    "params": [31410, 31426, 62842, 64010, 125610, 126250, 502410, 539850, 576778, 40702],
    "two": [100000, 200000],
    "log": list(np.log10([31410, 31426, 62842, 64010, 125610, 126250, 502410, 539850, 576778, 40702])),
}
for name, x in cases.items():
    x = np.array(x, dtype=float)
    kde = gaussian_kde(x, bw_method="silverman")
    d = kde(x)
    w = 1.0 / (d + 1e-7)
    p = w / w.sum()
    print(f"/* {name} */")
    print("static const double " + name + "_x[] = {" + ", ".join(repr(float(v)) for v in x) + "};")
    print("static const double " + name + "_density[] = {" + ", ".join("%.17g" % v for v in d) + "};")
    print("static const double " + name + "_prob[] = {" + ", ".join("%.17g" % v for v in p) + "};")
    print(f"static const double {name}_bw = {float(np.sqrt(kde.covariance[0,0])):.17g};")
