/** Breast-cancer split-NN parties wired in one process with real CKKS and real tfjs, for the specs. */
import * as path from 'node:path';
import { CkksContext, CkksEncryptor } from '@vfl/crypto';
import { NnArchitecture, initTensorflow } from '@vfl/ml';
import { SplitNnCoordinator } from '../src/split-nn/coordinator';
import { SplitNnFeatureParty } from '../src/split-nn/feature-party';
import { SplitNnJobLayout } from '../src/split-nn/job-layout';
import { SplitNnLabelParty } from '../src/split-nn/label-party';
import { AlignedData, loadAligned, SplitNnDataOptions } from '../src/split-nn/runner';

export const DATA = path.resolve(__dirname, '../../../../shared/data');

export const BREAST_ARCHITECTURE: NnArchitecture = {
  bottom: [
    { units: 16, activation: 'relu' },
    { units: 4, activation: 'linear' },
  ],
  interactive: { units: 8, activation: 'relu', learningRate: 0.05 },
  top: [],
  training: { optimizer: 'adam', learningRate: 0.01, batchSize: 64, epochs: 5, seed: 42, validationFraction: 0.3 },
};

export function breastOptions(architecture: NnArchitecture = BREAST_ARCHITECTURE): SplitNnDataOptions {
  return {
    labelFile: path.join(DATA, 'breast_hetero_guest.csv'),
    featureFiles: [path.join(DATA, 'breast_hetero_host.csv')],
    architecture,
  };
}

export interface Wired {
  readonly data: AlignedData;
  readonly ckks: CkksContext;
  readonly layout: SplitNnJobLayout;
  readonly coordinator: SplitNnCoordinator;
  readonly label: SplitNnLabelParty;
  readonly feature: SplitNnFeatureParty;
  readonly encryptors: CkksEncryptor[];
  dispose(): void;
}

export async function wireBreast(architecture: NnArchitecture = BREAST_ARCHITECTURE): Promise<Wired> {
  const data = await loadAligned(breastOptions(architecture));
  const { tf } = await initTensorflow();
  const ckks = await CkksContext.create();
  const f = data.features[0];
  const layout = new SplitNnJobLayout(
    {
      architecture,
      label: { id: data.label.id, inputWidth: data.label.columns },
      features: [{ id: f.id, inputWidth: f.columns }],
    },
    ckks.slots,
  );
  const coordinator = SplitNnCoordinator.create(ckks, layout);
  const encryptors = [0, 1].map(() => CkksEncryptor.fromBundle(ckks, coordinator.publicBundle()));
  const label = new SplitNnLabelParty({
    id: data.label.id,
    layout,
    tf,
    ckks,
    encryptor: encryptors[0],
    features: data.label.matrix,
    labels: data.labels,
    seed: data.label.seed,
  });
  const feature = new SplitNnFeatureParty({
    id: f.id,
    layout,
    tf,
    ckks,
    encryptor: encryptors[1],
    features: f.matrix,
    seed: f.seed,
  });
  return {
    data,
    ckks,
    layout,
    coordinator,
    label,
    feature,
    encryptors,
    dispose: () => {
      label.dispose();
      feature.dispose();
      encryptors.forEach((e) => e.dispose());
      coordinator.dispose();
      ckks.dispose();
    },
  };
}
