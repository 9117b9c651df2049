/**
 * `split-nn [--data default-credit|breast|synthetic] [--rows N] [--defence none|gaussian]
 * [--epochs N] [--noise-multiplier Z] [--clip-norm C]`: federated split NN (real CKKS, every party
 * and the coordinator in one process) beside the same network trained centrally in tfjs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import type { NnArchitecture } from '@vfl/ml';
import { type DefenceSpec, runSplitNn, splitNnPlaintextReference } from '@vfl/protocol';
import { parseBenchOptions, resolveBenchData, type BenchResult } from './options';
import { printTable, round } from './report';

export async function runSplitNnBench(argv: string[]): Promise<BenchResult> {
  const values = parseBenchOptions(argv, {
    data: { type: 'string', default: 'default-credit' },
    rows: { type: 'string', default: '30000' },
    epochs: { type: 'string', default: '8' },
    defence: { type: 'string', default: 'none' },
    'noise-multiplier': { type: 'string', default: '1' },
    'clip-norm': { type: 'string', default: '0.5' },
  });
  const epochs = Number(values.epochs);
  let labelFile: string;
  let featureFile: string;
  let labelColumn = 'y';
  const data = resolveBenchData(values.data);
  if (data.kind === 'shared') {
    labelFile = path.join(data.dataRoot, data.guest);
    featureFile = path.join(data.dataRoot, data.host);
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-'));
    const files = await writeSyntheticVfl(dir, {
      bankRows: Number(values.rows),
      ecommerceRows: Number(values.rows),
      overlap: 1,
    });
    labelFile = files.bankPath;
    featureFile = files.ecommercePath;
    labelColumn = BANK_LABEL_COLUMN;
  }
  let defence: DefenceSpec;
  if (values.defence === 'none') defence = { kind: 'none' };
  else if (values.defence === 'gaussian')
    defence = {
      kind: 'gaussian',
      noiseMultiplier: Number(values['noise-multiplier']),
      clipNorm: Number(values['clip-norm']),
    };
  else throw new Error(`--defence must be none or gaussian, got ${values.defence}`);
  const architecture: NnArchitecture = {
    bottom: [
      { units: 32, activation: 'relu' },
      { units: 4, activation: 'linear' },
    ],
    interactive: { units: 8, activation: 'relu', learningRate: 0.05 },
    top: [],
    training: {
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: values.data === 'breast' ? 64 : 1024,
      epochs,
      seed: 42,
      validationFraction: 0.3,
    },
  };
  const options = {
    labelFile,
    labelColumn,
    featureFiles: [featureFile],
    labelId: 'bank',
    featureIds: ['shop'],
    architecture,
  };
  const t0 = Date.now();
  const result = await runSplitNn({
    ...options,
    defence,
    onEpoch: (e) =>
      process.stderr.write(
        `  epoch ${e.epoch}: ${e.seconds.toFixed(2)} s, loss ${e.loss.toFixed(4)}, validation AUC ${e.validationAuc.toFixed(4)}\n`,
      ),
  });
  const total = (Date.now() - t0) / 1000;
  const reference = await splitNnPlaintextReference(options);
  const out = {
    epochSeconds: round(result.epochs.reduce((s, e) => s + e.seconds, 0) / result.epochs.length, 2),
    validationAuc: round(result.validationAuc, 4),
    plaintextValidationAuc: round(reference.validationAuc, 4),
    bytesPerEpoch: result.bytesPerEpoch,
    backend: result.backend,
    defence: defence.kind === 'none' ? 'none' : `gaussian(z=${defence.noiseMultiplier},C=${defence.clipNorm})`,
    epsilon: result.epsilon === undefined ? null : round(result.epsilon, 2),
    data: values.data,
    rows: result.rows,
    epochs: result.epochs.length,
  };
  printTable(
    `Split NN, ${values.data} (${result.rows} rows, ${result.validationRows} held out), ${out.epochs} epochs, all parties and the coordinator in one process`,
    [
      ['seconds per epoch (incl. validation)', String(out.epochSeconds)],
      ['validation AUC, federated', String(out.validationAuc)],
      ['validation AUC, same network central (tfjs)', String(out.plaintextValidationAuc)],
      ['best federated validation AUC (epoch)', `${round(result.bestValidationAuc, 4)} (${result.bestEpoch})`],
      ['bytes per epoch (all links)', `${(out.bytesPerEpoch / 1e6).toFixed(1)} MB`],
      ['decryptions per epoch', String(result.epochs[0].decryptions)],
      ['defence', out.defence + (out.epsilon === null ? '' : `, label-DP epsilon ${out.epsilon} (delta 1e-5)`)],
      ['HE', 'CKKS N=8192 (node-seal 6.0.3), no rotations'],
      ['local math', out.backend],
      ['total seconds (federated)', String(round(total, 1))],
    ],
  );
  return out;
}
