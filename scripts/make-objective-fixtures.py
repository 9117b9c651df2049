#!/usr/bin/python3
"""Writes the regression and 4-class fixtures (test/fixtures/objectives/) from scikit-learn's bundled
diabetes data (Efron et al. 2004, 442 patients, 10 baseline variables, a disease-progression score).

  diabetes_guest.csv  id, y (progression one year after baseline), age, sex, bmi, bp   (label party)
  diabetes_host.csv   id, s1..s6 (six blood-serum measurements)                        (feature party)
  diabetes4_guest.csv id, y (progression quartile, 0..3, cut on all rows), age, sex, bmi, bp
The host file serves both. Rows are shuffled with a fixed seed and each file leaves out a few IDs,
so alignment has work to do.  Run: /usr/bin/python3 scripts/make-objective-fixtures.py
"""
import csv
import gzip
import os
import random

SRC = '/usr/lib/python3/dist-packages/sklearn/datasets/data'
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'objectives')

with gzip.open(os.path.join(SRC, 'diabetes_data_raw.csv.gz'), 'rt') as f:
    rows = [line.split() for line in f if line.strip()]
with gzip.open(os.path.join(SRC, 'diabetes_target.csv.gz'), 'rt') as f:
    target = [float(line) for line in f if line.strip()]
assert len(rows) == len(target) == 442

ordered = sorted(target)
cuts = [ordered[len(ordered) * q // 4] for q in (1, 2, 3)]
quartile = [sum(y >= c for c in cuts) for y in target]

ids = [f'P{i:04d}' for i in range(len(rows))]
rng = random.Random(21)
guest_rows = [i for i in range(len(rows)) if i % 97 != 5]  # a few IDs only the host has
host_rows = [i for i in range(len(rows)) if i % 89 != 7]  # and a few only the guest has
rng.shuffle(guest_rows)
rng.shuffle(host_rows)


def fmt(v):
    return f'{float(v):.6g}'


def write(name, header, rows_):
    with open(os.path.join(OUT, name), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(header)
        w.writerows(rows_)


guest_header = ['id', 'y', 'age', 'sex', 'bmi', 'bp']
write('diabetes_guest.csv', guest_header, [[ids[i], fmt(str(target[i])), *map(fmt, rows[i][:4])] for i in guest_rows])
write('diabetes4_guest.csv', guest_header, [[ids[i], quartile[i], *map(fmt, rows[i][:4])] for i in guest_rows])
write('diabetes_host.csv', ['id', 's1', 's2', 's3', 's4', 's5', 's6'], [[ids[i], *map(fmt, rows[i][4:])] for i in host_rows])
print(f'wrote {len(guest_rows)} guest rows, {len(host_rows)} host rows, quartile cuts {cuts}')
