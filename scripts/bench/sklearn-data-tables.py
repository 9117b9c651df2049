"""scikit-learn on the pooled tables of test/fixtures/data-as-it-comes, preprocessed as the demo's
options ask (README "Data as it comes"). Not a test: it prints one line per table and, last, one
JSON object.

  /usr/bin/python3 scripts/bench/sklearn-data-tables.py

Each table is joined on id (the PSI intersection), split 80/20 at random (seed 0; the platform's
split is its own seeded one, so figures agree to the noise of a holdout of this size), filled and
encoded on the training rows only, standardised, and fitted with LogisticRegression (lbfgs, C=1)
and MLPClassifier (32-16 relu, adam, early stopping).
"""
import csv
import json
import os

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', 'test', 'fixtures', 'data-as-it-comes')


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], {r[0]: r for r in rows[1:]}


def is_number(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False


def pooled(name):
    g_head, guest = read(os.path.join(DATA, f'{name}_guest.csv'))
    h_head, host = read(os.path.join(DATA, f'{name}_host.csv'))
    ids = [i for i in guest if i in host]
    columns = g_head[2:] + h_head[1:]
    cells = [guest[i][2:] + host[i][1:] for i in ids]
    y = np.array([int(guest[i][1]) for i in ids])
    text = [j for j in range(len(columns)) if any(r[j] != '' and not is_number(r[j]) for r in cells)]
    return columns, cells, y, text, len(g_head) - 2


def matrix(cells, columns, text, pick):
    num = [j for j in pick if j not in text]
    cat = [j for j in pick if j in text]
    x_num = np.array([[float(r[j]) if r[j] != '' else np.nan for j in num] for r in cells], dtype=float)
    x_cat = np.array([[r[j] if r[j] != '' else '(empty)' for j in cat] for r in cells], dtype=object)
    return x_num, x_cat


def pipeline(fill, has_cat, n_num, model):
    imputer = SimpleImputer(strategy='constant', fill_value=0) if fill == 'zero' else SimpleImputer(strategy=fill)
    parts = [('num', make_pipeline(imputer, StandardScaler()), list(range(n_num)))]
    if has_cat:
        parts.append(('cat', OneHotEncoder(handle_unknown='infrequent_if_exist', max_categories=10), list(range(n_num, n_num + has_cat))))
    return make_pipeline(ColumnTransformer(parts), model)


def run(name, fill):
    columns, cells, y, text, guest_width = pooled(name)
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=y)
    out = {'rows': int(len(y)), 'textColumns': [columns[j] for j in text]}

    def fit(pick, model):
        x_num, x_cat = matrix(cells, columns, text, pick)
        x = np.concatenate([x_num.astype(object), x_cat], axis=1) if x_cat.shape[1] else x_num
        pipe = pipeline(fill, x_cat.shape[1], x_num.shape[1], model).fit(x[train], y[train])
        return round(float(roc_auc_score(y[test], pipe.predict_proba(x[test])[:, 1])), 4)

    everything = list(range(len(columns)))
    out['lrValidationAuc'] = fit(everything, LogisticRegression(max_iter=5000))
    out['mlpValidationAuc'] = fit(everything, MLPClassifier(hidden_layer_sizes=(32, 16), early_stopping=True, max_iter=1000, random_state=0))
    # The label party's features alone: the platform's uplift baseline.
    out['lrLabelOnlyValidationAuc'] = fit(list(range(guest_width)), LogisticRegression(max_iter=5000))
    return out


results = {
    'digits_sparse (blanks filled with zero)': run('digits_sparse', 'zero'),
    'breast_text (text one-hot, gaps median)': run('breast_text', 'median'),
}
for name, r in results.items():
    print(f"{name:45s} rows {r['rows']:5d}  LR {r['lrValidationAuc']:.4f}  MLP {r['mlpValidationAuc']:.4f}  label party's LR alone {r['lrLabelOnlyValidationAuc']:.4f}")
print(json.dumps(results))
