/**
 * `npm run bench -- objectives [--seed N] [--json]`: the reference figures for the regression and
 * 4-class fixtures (test/fixtures/objectives, scikit-learn's diabetes data split vertically): the
 * plaintext algorithm the federation runs (lossless against it, see split-lr-objectives.spec.ts)
 * and scikit-learn on the pooled rows of the same split (Debian's python3-sklearn; reference
 * figures only, never in a test): LinearRegression and LogisticRegression (multinomial) on the
 * split LR uses (20% validation), MLPs on the split NN uses (30%).
 *
 *   --seed N       the job's seed, which fixes the split (default 42, the demo's)
 *   --epochs N     epochs of the plaintext split-LR reference (default 50)
 *   --batch-size N batch size of the plaintext reference (default 64)
 *   --learning-rate X  (default 0.05)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters } from '@vfl/ml';
import {
  plaintextMulticlassReference,
  plaintextRegressionReference,
  pooledParties,
} from '../../libs/protocol/src/plaintext-reference';
import { type Benchmark, parseBenchOptions, REPO_ROOT } from './options';
import { printTable, round, type Row } from './report';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/objectives');
const HOST = path.join(FIXTURES, 'diabetes_host.csv');

const SKLEARN = `
import json, sys, numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPRegressor, MLPClassifier
from sklearn.metrics import r2_score, mean_squared_error, mean_absolute_error, accuracy_score, f1_score, roc_auc_score
d = np.loadtxt(sys.argv[1] + '/data.csv', delimiter=',')
tr = np.loadtxt(sys.argv[1] + '/train.txt', dtype=int); va = np.loadtxt(sys.argv[1] + '/validation.txt', dtype=int)
X, y = d[:, 1:], d[:, 0]
kind, model = sys.argv[2], sys.argv[3]
if kind == 'regression':
    m = LinearRegression() if model == 'linear' else MLPRegressor(hidden_layer_sizes=(16,), alpha=1.0, max_iter=3000, random_state=0)
    # The MLP fits a standardised target, as the federation does.
    mu, sd = y[tr].mean(), y[tr].std()
    m.fit(X[tr], (y[tr] - mu) / sd)
    p = m.predict(X[va]) * sd + mu
    print(json.dumps({'r2': r2_score(y[va], p), 'rmse': mean_squared_error(y[va], p) ** 0.5, 'mae': mean_absolute_error(y[va], p)}))
else:
    m = LogisticRegression(max_iter=5000) if model == 'linear' else MLPClassifier(hidden_layer_sizes=(16,), alpha=1.0, max_iter=3000, random_state=0)
    m.fit(X[tr], y[tr].astype(int))
    p = m.predict_proba(X[va])
    print(json.dumps({'accuracy': accuracy_score(y[va], p.argmax(1)), 'macroF1': f1_score(y[va], p.argmax(1), average='macro'),
                      'auc': roc_auc_score(y[va], p, multi_class='ovr', average='macro')}))
`;

type Figures = Record<string, number>;

/** scikit-learn on the pooled, standardised columns of the job's split (the label party's intercept column left out). */
async function sklearn(
  guest: string,
  objective: 'regression' | 'multiclass',
  model: 'linear' | 'mlp',
  hp: LrHyperparameters,
): Promise<Figures | null> {
  const pooled = await pooledParties(guest, HOST, hp, 'y', objective);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-objectives-'));
  try {
    const rows = pooled.targets!.length;
    const lines = Array.from({ length: rows }, (_, r) =>
      [
        pooled.targets![r],
        ...pooled.blocks.flatMap(({ matrix, columns }, b) =>
          Array.from(matrix.subarray(r * columns, (r + 1) * columns)).slice(0, b === 0 ? columns - 1 : columns),
        ),
      ].join(','),
    );
    fs.writeFileSync(path.join(dir, 'data.csv'), lines.join('\n'));
    fs.writeFileSync(path.join(dir, 'train.txt'), Array.from(pooled.split.train).join('\n'));
    fs.writeFileSync(path.join(dir, 'validation.txt'), Array.from(pooled.split.validation).join('\n'));
    const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const out = execFileSync(python, ['-c', SKLEARN, dir, objective, model], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1)!) as Figures;
  } catch (e) {
    console.error(`scikit-learn reference skipped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const rounded = (f: Figures | null) =>
  f ? Object.fromEntries(Object.entries(f).map(([k, v]) => [k, round(v, 4)])) : null;

export const runObjectivesBench: Benchmark = async (argv) => {
  const o = parseBenchOptions(argv, {
    seed: { type: 'string', default: '42' },
    epochs: { type: 'string', default: '50' },
    'batch-size': { type: 'string', default: '64' },
    'learning-rate': { type: 'string', default: '0.05' },
  });
  const hp: LrHyperparameters = {
    ...DEFAULT_LR_HYPERPARAMETERS,
    seed: Number(o.seed),
    epochs: Number(o.epochs),
    batchSize: Number(o['batch-size']),
    learningRate: Number(o['learning-rate']),
  };
  // Split NN's features are not clipped, and the demo holds out 30% for it.
  const nnSplit = { ...hp, validationFraction: 0.3, clipSigma: 0 };
  const regressionGuest = path.join(FIXTURES, 'diabetes_guest.csv');
  const classesGuest = path.join(FIXTURES, 'diabetes4_guest.csv');
  const regression = await plaintextRegressionReference(regressionGuest, HOST, hp);
  const classes = await plaintextMulticlassReference(classesGuest, HOST, hp);
  const result = {
    regression: {
      plaintextSplitLr: rounded({
        r2: regression.validation.r2,
        rmse: regression.validation.rmse,
        mae: regression.validation.mae,
      }),
      sklearnLinear: rounded(await sklearn(regressionGuest, 'regression', 'linear', hp)),
      sklearnMlp: rounded(await sklearn(regressionGuest, 'regression', 'mlp', nnSplit)),
    },
    multiclass: {
      plaintextSplitLr: rounded({
        accuracy: classes.validation.accuracy,
        macroF1: classes.validation.macroF1,
        auc: classes.validation.auc,
      }),
      sklearnLogistic: rounded(await sklearn(classesGuest, 'multiclass', 'linear', hp)),
      sklearnMlp: rounded(await sklearn(classesGuest, 'multiclass', 'mlp', nnSplit)),
    },
  };
  const rows: Row[] = [];
  for (const [objective, models] of Object.entries(result))
    for (const [name, figures] of Object.entries(models))
      rows.push([
        `${objective}, ${name}`,
        figures
          ? Object.entries(figures)
              .map(([k, v]) => `${k} ${v}`)
              .join('  ')
          : 'skipped',
      ]);
  printTable(`validation figures on the diabetes fixtures (seed ${hp.seed}; LR 20% held out, MLP 30%)`, rows);
  return result;
};
