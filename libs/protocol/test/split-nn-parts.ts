/**
 * The test's own plaintext scoring of a split-NN model from its saved parts (which no party could
 * do: it needs every party's part and rows). The federated prediction must agree with it.
 */
import { loadPartyTable } from '@vfl/data';
import { INTERACTIVE_DEFAULTS, activate, buildBottom, buildTop, initTensorflow } from '@vfl/ml';
import type { NnPartyModel } from '../src/split-nn/model';

/** A party's rows of `ids` standardised with its saved part's statistics (an ID it lacks: zeros). */
export async function standardizedRows(
  model: NnPartyModel,
  file: string,
  ids: readonly string[],
): Promise<Float64Array> {
  const table = await loadPartyTable(file, { labelColumn: model.data.labelColumn });
  const width = model.columns.length;
  const out = new Float64Array(ids.length * width);
  ids.forEach((id, k) => {
    const row = table.ids.indexOf(id);
    if (row < 0) return;
    for (let j = 0; j < width; j++) {
      const c = table.featureNames.indexOf(model.columns[j]);
      out[k * width + j] =
        (table.features[row * table.featureNames.length + c] - model.standardization.means[j]) /
        model.standardization.deviations[j];
    }
  });
  return out;
}

/** p(y = 1) for each row: sigmoid(top(act(α_L·W_L + b + Σ_f α_f·(V_f + N_f)))). */
export async function plaintextScores(
  label: NnPartyModel,
  labelRows: Float64Array,
  features: { model: NnPartyModel; rows: Float64Array }[],
): Promise<Float64Array> {
  const { tf } = await initTensorflow();
  const arch = label.architecture;
  const p = label.parameters;
  if (p.role !== 'label') throw new Error('not the label part');
  const n = labelRows.length / label.columns.length;
  const h = arch.interactive.units;
  const stacks = [buildBottom(tf, arch, label.partyId, label.columns.length, 0), buildTop(tf, arch, 0)];
  stacks[0].restore(p.bottom);
  stacks[1].restore(p.top);
  const bottoms = features.map((f) => {
    const part = f.model.parameters;
    if (part.role !== 'feature') throw new Error('not a feature part');
    const b = buildBottom(tf, arch, f.model.partyId, f.model.columns.length, 0);
    b.restore(part.bottom);
    const v = p.shares.find((s) => s.party === f.model.partyId)!.weights;
    return {
      bottom: b,
      w: Float32Array.from(v, (x, i) => x + part.share[i]),
      rows: f.rows,
      width: f.model.columns.length,
    };
  });
  try {
    const out = tf.tidy(() => {
      const aL = stacks[0].forward(tf.tensor2d(Float32Array.from(labelRows), [n, label.columns.length]), {
        training: false,
      });
      let z = tf.add<ReturnType<typeof tf.tensor2d>>(
        tf.matMul(aL, tf.tensor2d(Float32Array.from(p.interactiveKernel), [aL.shape[1], h])),
        tf.tensor1d(Float32Array.from(p.interactiveBias)),
      );
      for (const f of bottoms) {
        const a = f.bottom.forward(tf.tensor2d(Float32Array.from(f.rows), [n, f.width]), { training: false });
        z = tf.add<typeof z>(z, tf.matMul(a, tf.tensor2d(f.w, [a.shape[1], h])));
      }
      return tf.sigmoid(
        stacks[1].forward(activate(tf, z, arch.interactive.activation ?? INTERACTIVE_DEFAULTS.activation), {
          training: false,
        }),
      );
    });
    const values = Float64Array.from(out.dataSync());
    out.dispose();
    return values;
  } finally {
    [...stacks, ...bottoms.map((b) => b.bottom)].forEach((s) => s.dispose());
  }
}
