/**
 * Federated inference with a trained split-NN model, coordinator side (SplitLrPrediction runs the
 * roster and predict.prepare for both families, then this). Every party has loaded its saved part
 * and the requested rows as its only split; the coordinator generates a fresh key pair for the
 * prediction and runs the evaluation steps of training over those rows in chunks:
 *   he.keys → per chunk nn.forward (feature parties; Enc(α_f) to the label party),
 *   nn.products (label party), the coordinator's release of Σ_f α_f·W_f + masks, nn.predict;
 * and the label party hands the scores to the coordinator (predict.combine). So the label party
 * sees what it sees in evaluation (Σ_f α_f·W_f per row, never α_f), and a feature party sees only
 * ciphertexts of nothing but its own output and gets no score.
 */
import { CkksContext } from '@vfl/crypto';
import { validateArchitecture } from '@vfl/ml';
import type { ModelManifest } from '../model-manifest';
import { SplitNnCoordinator } from './coordinator';
import { SplitNnJobLayout } from './job-layout';
import { scoreSplit, sendKeys, SplitNnDriver } from './training';

export interface SplitNnScoringDriver extends Pick<
  SplitNnDriver,
  'jobId' | 'label' | 'features' | 'call' | 'message' | 'audit'
> {
  /** The training job's manifest: its architecture and every part's columns. */
  readonly manifest: ModelManifest;
  readonly rows: number;
}

/** Scores `rows` prepared rows; the label party then holds them for predict.combine. */
export async function scoreWithSplitNn(d: SplitNnScoringDriver): Promise<void> {
  const architecture = validateArchitecture(d.manifest.architecture);
  const widthOf = (partyId: string): number => {
    const part = d.manifest.parts.find((p) => p.partyId === partyId);
    if (!part) throw new RangeError(`the manifest of job ${d.manifest.jobId} has no part of ${partyId}`);
    return part.columns.length;
  };
  const ckks = await CkksContext.create();
  try {
    const layout = new SplitNnJobLayout(
      {
        architecture,
        label: { id: d.label.partyId, inputWidth: widthOf(d.label.partyId) },
        features: d.features.map((f) => ({ id: f.partyId, inputWidth: widthOf(f.partyId) })),
      },
      ckks.slots,
    );
    const coordinator = SplitNnCoordinator.create(ckks, layout);
    try {
      await sendKeys(
        coordinator,
        d,
        Object.fromEntries([d.label, ...d.features].map((c) => [c.partyId, widthOf(c.partyId)])),
      );
      await scoreSplit(coordinator, d, 'validation', d.rows, 0);
    } finally {
      coordinator.dispose();
    }
  } finally {
    ckks.dispose();
  }
}
