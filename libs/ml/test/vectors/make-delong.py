"""Writes delong.json: paired-AUC DeLong vectors from a direct O(m*n) computation of the
structural components (DeLong, DeLong & Clarke-Pearson 1988, Biometrics 44:837-845, eqs. for
V10, V01, S10, S01), independent of the midrank algorithm the library uses (Sun & Xu 2014).

  /usr/bin/python3 libs/ml/test/vectors/make-delong.py
"""
import json, math, os, random


def psi(x, y):
    return 1.0 if x > y else 0.5 if x == y else 0.0


def delong(a, b, labels):
    pos = [i for i, y in enumerate(labels) if y == 1]
    neg = [i for i, y in enumerate(labels) if y == 0]
    m, n = len(pos), len(neg)
    models = [a, b]
    v10 = [[sum(psi(s[i], s[j]) for j in neg) / n for i in pos] for s in models]
    v01 = [[sum(psi(s[i], s[j]) for i in pos) / m for j in neg] for s in models]
    auc = [sum(v) / m for v in v10]

    def cov(u, w):
        mu, mw = sum(u) / len(u), sum(w) / len(w)
        return sum((x - mu) * (y - mw) for x, y in zip(u, w)) / (len(u) - 1)

    s10 = [[cov(v10[r], v10[c]) for c in range(2)] for r in range(2)]
    s01 = [[cov(v01[r], v01[c]) for c in range(2)] for r in range(2)]
    var = (s10[0][0] + s10[1][1] - 2 * s10[0][1]) / m + (s01[0][0] + s01[1][1] - 2 * s01[0][1]) / n
    var_a = s10[0][0] / m + s01[0][0] / n
    se = math.sqrt(var)
    d = auc[0] - auc[1]
    z = d / se
    p = math.erfc(abs(z) / math.sqrt(2))
    return {
        'aucA': auc[0], 'aucB': auc[1], 'varianceA': var_a, 'difference': d, 'standardError': se,
        'z': z, 'pValue': p, 'interval95': [d - 1.959963984540054 * se, d + 1.959963984540054 * se],
    }


cases = []
# A hand-sized case with ties within and across the models.
labels = [1, 1, 1, 0, 0, 0, 0]
a = [0.9, 0.8, 0.4, 0.8, 0.3, 0.2, 0.1]
b = [0.7, 0.6, 0.6, 0.65, 0.6, 0.1, 0.5]
cases.append({'name': 'hand-sized, ties', 'labels': labels, 'a': a, 'b': b, 'expected': delong(a, b, labels)})
# Seeded, 300 rows: a strong score and a weaker one built on it (correlated, as federated vs label-only).
rng = random.Random(2026)
labels, a, b = [], [], []
for _ in range(300):
    y = 1 if rng.random() < 0.3 else 0
    base = rng.gauss(1.0 if y else 0.0, 1.0)
    labels.append(y)
    a.append(round(base + rng.gauss(0.6 if y else 0.0, 0.8), 4))
    b.append(round(base + rng.gauss(0, 1.2), 4))
cases.append({'name': 'seeded 300 rows, correlated scores', 'labels': labels, 'a': a, 'b': b, 'expected': delong(a, b, labels)})

out = {'source': 'libs/ml/test/vectors/make-delong.py: direct O(m*n) structural components, DeLong et al. 1988', 'cases': cases}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'delong.json'), 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
