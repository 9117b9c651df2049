/**
 * What split-NN participants refuse, with real CKKS and tfjs on the breast-cancer data: ciphertexts
 * at the wrong level, under foreign parameters or a foreign key, bottom widths that differ from the
 * job config, NaN activations, and decryptions the coordinator did not announce or already served.
 */
import { CkksContext, CkksError, CkksEncryptor, CkksKeyHolder } from '@vfl/crypto';
import { ArchitectureError, DenseStack, NonFiniteActivationError, initTensorflow } from '@vfl/ml';
import { DecryptionRefusedError } from '../src/split-lr/masked-decryption';
import { SplitNnConfigMismatch, SplitNnFeatureParty, SplitNnProtocolError } from '../src/split-nn/feature-party';
import { SplitNnConfigError, SplitNnJobLayout } from '../src/split-nn/job-layout';
import { BatchKey } from '../src/split-nn/messages';
import { BREAST_ARCHITECTURE, wireBreast, Wired } from './split-nn-fixture';

describe('split NN refusals (real CKKS)', () => {
  let w: Wired;
  let batch = 0;
  const rows = (): Int32Array => w.data.split.train.subarray(0, 64);
  const nextKey = (): BatchKey => ({ phase: 'train', epoch: 0, batch: batch++ });

  beforeAll(async () => {
    w = await wireBreast();
  });
  afterAll(() => w.dispose());

  it('the label party refuses an α ciphertext at the wrong level', () => {
    const key = nextKey();
    const out = w.feature.forward(key, rows());
    const ct = w.ckks.deserialize(out.toLabel.alpha[0], { level: w.ckks.topLevel });
    const one = w.ckks.encode(new Float64Array(w.ckks.slots).fill(1));
    const lowered = w.ckks.multiplyPlainRescale(ct, one);
    const bytes = w.ckks.serialize(lowered);
    [ct, one, lowered].forEach((x) => x.delete());
    const tampered = { ...out.toLabel, alpha: [bytes, ...out.toLabel.alpha.slice(1)] };
    expect(() => w.label.forwardProducts(key, rows(), [tampered])).toThrow(CkksError);
    expect(() => w.label.forwardProducts(key, rows(), [tampered])).toThrow(/expected at level 2, got level 1/);
  });

  it('the label party refuses a ciphertext under foreign CKKS parameters', async () => {
    const foreign = await CkksContext.create({
      name: 'ckks-n4096-test',
      polyModulusDegree: 4096,
      coeffModulusBits: [40, 20, 40],
      scaleBits: 20,
    });
    const holder = CkksKeyHolder.generate(foreign, []);
    const enc = CkksEncryptor.fromBundle(foreign, holder.publicBundle());
    try {
      const ct = enc.encrypt([1, 2, 3]);
      const bytes = foreign.serialize(ct);
      ct.delete();
      const key = nextKey();
      const out = w.feature.forward(key, rows());
      const err = (() => {
        try {
          w.label.forwardProducts(key, rows(), [{ ...out.toLabel, alpha: [bytes] }]);
        } catch (e) {
          return e as CkksError;
        }
      })();
      expect(err).toBeInstanceOf(CkksError);
      expect(err!.code).toBe('WRONG_PARAMETERS');
      expect(() => CkksEncryptor.fromBundle(w.ckks, holder.publicBundle())).toThrow(
        /public keys are for ckks-n4096-test/,
      );
    } finally {
      enc.dispose();
      holder.dispose();
      foreign.dispose();
    }
  });

  it('an α encrypted under another key decrypts to garbage, which the label party refuses instead of training on', () => {
    const other = CkksKeyHolder.generate(w.ckks, []);
    const otherEncryptor = CkksEncryptor.fromBundle(w.ckks, other.publicBundle());
    try {
      const key = nextKey();
      const out = w.feature.forward(key, rows());
      const alpha = out.toLabel.alpha.map(() => {
        const ct = otherEncryptor.encrypt([0.5, 0.25]);
        try {
          return w.ckks.serialize(ct);
        } finally {
          ct.delete();
        }
      });
      w.coordinator.announce(key, rows().length);
      const products = w.label.forwardProducts(key, rows(), [{ ...out.toLabel, alpha }]);
      const released = w.coordinator.releaseForward(key, products, [out.toCoordinator]);
      expect(() => w.label.trainStep(key, released)).toThrow(NonFiniteActivationError);
    } finally {
      otherEncryptor.dispose();
      other.dispose();
    }
  });

  it('refuses a forward message with the wrong number of ciphertexts or a bottom width the job config does not have', () => {
    const key = nextKey();
    const out = w.feature.forward(key, rows());
    expect(() =>
      w.label.forwardProducts(key, rows(), [{ ...out.toLabel, alpha: [...out.toLabel.alpha, ...out.toLabel.alpha] }]),
    ).toThrow('interactive layer input from party feature1: expected 1 ciphertexts for 64 rows of width 4, got 2');
    expect(() => w.label.forwardProducts(key, rows(), [{ ...out.toLabel, outputWidth: 8 }])).toThrow(
      'interactive layer input from party feature1: bottom output has 8 units, the job config expects 4',
    );
    expect(() => w.label.forwardProducts(key, rows(), [])).toThrow(SplitNnProtocolError);
  });

  it('a feature party refuses a bottom network whose output width differs from the job config', async () => {
    const { tf } = await initTensorflow();
    const f = w.data.features[0];
    const wide = new DenseStack(tf, f.columns, [{ units: 16 }, { units: 8, activation: 'linear' }], 1, 'bottom');
    try {
      expect(
        () =>
          new SplitNnFeatureParty({
            id: f.id,
            layout: w.layout,
            tf,
            ckks: w.ckks,
            encryptor: w.encryptors[1],
            features: f.matrix,
            seed: 1,
            bottom: wide,
          }),
      ).toThrow(new SplitNnConfigMismatch('bottom of party feature1 outputs 8 units, the job config expects 4'));
    } finally {
      wide.dispose();
    }
  });

  it('a feature party refuses NaN activations, naming the layer', async () => {
    const { tf } = await initTensorflow();
    const f = w.data.features[0];
    const features = f.matrix.slice();
    features[w.data.split.train[3] * f.columns + 2] = NaN;
    const party = new SplitNnFeatureParty({
      id: f.id,
      layout: w.layout,
      tf,
      ckks: w.ckks,
      encryptor: w.encryptors[1],
      features,
      seed: 5,
    });
    try {
      expect(() => party.forward(nextKey(), rows())).toThrow(
        /^bottom input produced a non-finite activation \(NaN\) at party feature1, train:0:\d+$/,
      );
      const clean = new SplitNnFeatureParty({
        id: f.id,
        layout: w.layout,
        tf,
        ckks: w.ckks,
        encryptor: w.encryptors[1],
        features: f.matrix,
        seed: 5,
      });
      try {
        clean.bottom.trainable()[2].assign(tf.fill([16, 4], NaN));
        expect(() => clean.forward(nextKey(), rows())).toThrow(/^bottom\[1\] produced a non-finite activation/);
      } finally {
        clean.dispose();
      }
    } finally {
      party.dispose();
    }
  });

  it('the coordinator decrypts only announced batches, once, with the planned number of ciphertexts', () => {
    const key = nextKey();
    const out = w.feature.forward(key, rows());
    const products = w.label.forwardProducts(key, rows(), [out.toLabel]);
    expect(() => w.coordinator.releaseForward(key, products, [out.toCoordinator])).toThrow(DecryptionRefusedError);
    const announced = nextKey();
    w.coordinator.announce(announced, rows().length);
    expect(() =>
      w.coordinator.releaseForward(announced, { products: [products.products[0].slice(1)] }, [out.toCoordinator]),
    ).toThrow(/part 0 expected 8 ciphertexts, got 7/);
    expect(() => w.coordinator.releaseForward(announced, products, [out.toCoordinator])).toThrow(
      /already served \(replay\)/,
    );
    expect(() => w.coordinator.announce(announced, rows().length)).toThrow(/already announced/);
  });

  it('a full training batch goes through, and the feature party refuses a release it did not ask for', () => {
    const key = nextKey();
    w.coordinator.announce(key, rows().length);
    const out = w.feature.forward(key, rows());
    const step = w.label.trainStep(
      key,
      w.coordinator.releaseForward(key, w.label.forwardProducts(key, rows(), [out.toLabel]), [out.toCoordinator]),
    );
    expect(Number.isFinite(step.loss)).toBe(true);
    const before = w.feature.share.weights.slice();
    const products = w.feature.backward(key, step.toFeatures[0]);
    expect(products.g).toHaveLength(w.layout.delta.ciphertextsFor(64) * 4);
    expect(products.w).toHaveLength(4);
    const released = w.coordinator.releaseBackward(key, 'feature1', products, step.toCoordinator[0]);
    w.feature.applyRelease(key, released);
    expect(Array.from(w.feature.share.weights)).not.toEqual(Array.from(before));
    expect(() => w.feature.applyRelease(key, released)).toThrow(
      `party feature1: no backward is pending for train:0:${key.batch}`,
    );
  });

  it('refuses job configs that do not fit', () => {
    const spec = {
      architecture: BREAST_ARCHITECTURE,
      label: { id: 'bank', inputWidth: 10 },
      features: [{ id: 'shop', inputWidth: 20 }],
    };
    expect(() => new SplitNnJobLayout({ ...spec, features: [] }, 4096)).toThrow(SplitNnConfigError);
    expect(() => new SplitNnJobLayout({ ...spec, features: [{ id: 'bank', inputWidth: 3 }] }, 4096)).toThrow(
      'party bank is listed twice',
    );
    expect(
      () =>
        new SplitNnJobLayout(
          {
            ...spec,
            architecture: {
              ...BREAST_ARCHITECTURE,
              bottomByParty: { shop: [{ units: 512 }] },
              interactive: { units: 16 },
            },
          },
          4096,
        ),
    ).toThrow('bottomByParty.shop[0].units × interactive.units = 8192 exceeds the 4096 CKKS slots');
    expect(
      () => new SplitNnJobLayout({ ...spec, architecture: { ...BREAST_ARCHITECTURE, top: [{ units: 0 }] } }, 4096),
    ).toThrow(ArchitectureError);
  });
});
