/**
 * The split neural network's architecture and training settings as a JSON-able spec, with a
 * validator whose errors name the offending layer and field (`bottom[1].units must be ...`).
 *
 * Shape of the model (one label party L, feature parties f = 1..k):
 *   α_p   = bottom_p(x_p)                      every party, on its own features (plaintext, local)
 *   z     = Σ_p α_p · W_p + b                  the interactive layer; W_f for a feature party is
 *                                              held as two shares (see split-nn docs)
 *   p(y)  = sigmoid(top(activation(z)))        the label party; `top` lists hidden layers, the
 *                                              output unit (dense 1 + sigmoid) is always appended
 *
 * Optimizers: bottoms and the top use `training.optimizer`; the interactive layer always uses SGD
 * with momentum, because a feature party's interactive weights are updated by two parties that
 * each hold only a share of the gradient, and only optimizers linear in the gradient split
 * exactly (Adam's division by the running RMS does not).
 */

export type Activation = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'leaky_relu';
export const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'tanh', 'sigmoid', 'elu', 'leaky_relu'];

export interface DenseLayerSpec {
  readonly units: number;
  /** Default 'relu'. */
  readonly activation?: Activation;
  /** Dropout rate applied to this layer's output during training, in [0, 1). Default 0. */
  readonly dropout?: number;
  /** Batch normalisation of the pre-activation (training: batch statistics; inference: moving averages). */
  readonly batchNorm?: boolean;
}

export interface InteractiveLayerSpec {
  readonly units: number;
  /** Applied to z before the top network. Default 'relu'. */
  readonly activation?: Activation;
  /** SGD learning rate of the interactive weights (before the schedule). Default 0.05. */
  readonly learningRate?: number;
  /** SGD momentum of the interactive weights, in [0, 1). Default 0.9. */
  readonly momentum?: number;
  /**
   * Standard deviation of the noise R the label party draws per batch to split each interactive
   * weight update between its share and the feature party's (gradient units, scaled by the batch
   * size internally). Larger hides the update better from the feature party; it never changes the
   * model. Default 1.
   */
  readonly shareNoise?: number;
}

export type LearningRateSchedule =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly everyEpochs: number; readonly factor: number }
  | { readonly kind: 'exponential'; readonly decayPerEpoch: number }
  | { readonly kind: 'cosine'; readonly minFactor?: number };

export interface EarlyStoppingSpec {
  /** Epochs without an improvement of validation AUC by more than minDelta before stopping. */
  readonly patience: number;
  /** Default 0. */
  readonly minDelta?: number;
}

export interface TrainingSpec {
  readonly optimizer: 'sgd' | 'adam';
  readonly learningRate: number;
  readonly schedule?: LearningRateSchedule;
  readonly batchSize: number;
  readonly epochs: number;
  readonly seed: number;
  /** Share of aligned rows held out for validation. Default 0.3. */
  readonly validationFraction?: number;
  readonly earlyStopping?: EarlyStoppingSpec;
}

export interface NnArchitecture {
  /** Bottom network of every party (the last layer's units is its output width α). */
  readonly bottom: readonly DenseLayerSpec[];
  /** Per-party bottom networks overriding `bottom`, by party id. */
  readonly bottomByParty?: Readonly<Record<string, readonly DenseLayerSpec[]>>;
  readonly interactive: InteractiveLayerSpec;
  /** Hidden layers of the label party's top network; may be empty. */
  readonly top: readonly DenseLayerSpec[];
  readonly training: TrainingSpec;
}

/** A spec that does not describe a trainable model; the message names the field. */
export class ArchitectureError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'ArchitectureError';
  }
}

export const MAX_UNITS = 1024;
export const MAX_LAYERS = 16;

/**
 * Checks a spec (possibly parsed from JSON) and returns it typed.
 * @throws ArchitectureError naming the layer and field, e.g. "bottom[1].units must be an integer in [1, 1024], got 0".
 */
export function validateArchitecture(spec: unknown): NnArchitecture {
  const root = object(spec, 'architecture');
  layers(root.bottom, 'bottom', true);
  if (root.bottomByParty !== undefined) {
    const byParty = object(root.bottomByParty, 'bottomByParty');
    for (const [party, list] of Object.entries(byParty)) layers(list, `bottomByParty.${party}`, true);
  }
  const interactive = object(root.interactive, 'interactive');
  integer(interactive.units, 'interactive.units', 1, MAX_UNITS);
  optionalActivation(interactive.activation, 'interactive.activation');
  optionalNumber(interactive.learningRate, 'interactive.learningRate', 0, 10, false);
  optionalNumber(interactive.momentum, 'interactive.momentum', 0, 1, true, false);
  optionalNumber(interactive.shareNoise, 'interactive.shareNoise', 0, 1e3, true);
  layers(root.top, 'top', false);
  const training = object(root.training, 'training');
  if (training.optimizer !== 'sgd' && training.optimizer !== 'adam') {
    throw new ArchitectureError('training.optimizer', `must be "sgd" or "adam", got ${show(training.optimizer)}`);
  }
  positive(training.learningRate, 'training.learningRate', 10);
  integer(training.batchSize, 'training.batchSize', 2, 1 << 16);
  integer(training.epochs, 'training.epochs', 1, 10_000);
  if (!Number.isSafeInteger(training.seed))
    throw new ArchitectureError('training.seed', `must be a safe integer, got ${show(training.seed)}`);
  optionalNumber(training.validationFraction, 'training.validationFraction', 0, 1, false, false);
  if (training.schedule !== undefined) schedule(training.schedule);
  if (training.earlyStopping !== undefined) {
    const es = object(training.earlyStopping, 'training.earlyStopping');
    integer(es.patience, 'training.earlyStopping.patience', 1, 10_000);
    optionalNumber(es.minDelta, 'training.earlyStopping.minDelta', 0, 1, true);
  }
  const known = new Set(['bottom', 'bottomByParty', 'interactive', 'top', 'training']);
  const extra = Object.keys(root).find((k) => !known.has(k));
  if (extra !== undefined) throw new ArchitectureError(extra, 'is not a field of the architecture');
  return spec as NnArchitecture;
}

/** The bottom network of one party. */
export function bottomOf(arch: NnArchitecture, partyId: string): readonly DenseLayerSpec[] {
  return arch.bottomByParty?.[partyId] ?? arch.bottom;
}

/** Where a party's bottom layers are named in errors: `bottom` or `bottomByParty.<id>`. */
export function bottomPath(arch: NnArchitecture, partyId: string): string {
  return arch.bottomByParty?.[partyId] ? `bottomByParty.${partyId}` : 'bottom';
}

/** Width of a party's bottom output α. */
export function bottomOutputWidth(arch: NnArchitecture, partyId: string): number {
  const layers = bottomOf(arch, partyId);
  return layers[layers.length - 1].units;
}

/** Learning-rate multiplier for an epoch (0-based). */
export function scheduleFactor(schedule: LearningRateSchedule | undefined, epoch: number, epochs: number): number {
  if (!schedule || schedule.kind === 'constant') return 1;
  switch (schedule.kind) {
    case 'step':
      return schedule.factor ** Math.floor(epoch / schedule.everyEpochs);
    case 'exponential':
      return schedule.decayPerEpoch ** epoch;
    case 'cosine': {
      const min = schedule.minFactor ?? 0;
      return min + ((1 - min) * (1 + Math.cos((Math.PI * epoch) / Math.max(1, epochs)))) / 2;
    }
  }
}

export const INTERACTIVE_DEFAULTS = Object.freeze({
  activation: 'relu',
  learningRate: 0.05,
  momentum: 0.9,
  shareNoise: 1,
});

function layers(value: unknown, path: string, nonEmpty: boolean): void {
  if (!Array.isArray(value)) throw new ArchitectureError(path, `must be an array of dense layers, got ${show(value)}`);
  if (nonEmpty && value.length === 0)
    throw new ArchitectureError(path, 'must have at least one layer (its last layer is the output width)');
  if (value.length > MAX_LAYERS)
    throw new ArchitectureError(path, `must have at most ${MAX_LAYERS} layers, got ${value.length}`);
  value.forEach((layer, i) => {
    const at = `${path}[${i}]`;
    const l = object(layer, at);
    integer(l.units, `${at}.units`, 1, MAX_UNITS);
    optionalActivation(l.activation, `${at}.activation`);
    optionalNumber(l.dropout, `${at}.dropout`, 0, 1, true, false);
    if (l.batchNorm !== undefined && typeof l.batchNorm !== 'boolean') {
      throw new ArchitectureError(`${at}.batchNorm`, `must be a boolean, got ${show(l.batchNorm)}`);
    }
    const known = new Set(['units', 'activation', 'dropout', 'batchNorm']);
    const extra = Object.keys(l).find((k) => !known.has(k));
    if (extra !== undefined) throw new ArchitectureError(`${at}.${extra}`, 'is not a field of a dense layer');
  });
}

function schedule(value: unknown): void {
  const s = object(value, 'training.schedule');
  switch (s.kind) {
    case 'constant':
      return;
    case 'step':
      integer(s.everyEpochs, 'training.schedule.everyEpochs', 1, 10_000);
      positive(s.factor, 'training.schedule.factor', 1);
      return;
    case 'exponential':
      positive(s.decayPerEpoch, 'training.schedule.decayPerEpoch', 1);
      return;
    case 'cosine':
      optionalNumber(s.minFactor, 'training.schedule.minFactor', 0, 1, true);
      return;
    default:
      throw new ArchitectureError(
        'training.schedule.kind',
        `must be constant, step, exponential or cosine, got ${show(s.kind)}`,
      );
  }
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ArchitectureError(path, `must be an object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

function integer(value: unknown, path: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ArchitectureError(path, `must be an integer in [${min}, ${max}], got ${show(value)}`);
  }
}

function positive(value: unknown, path: string, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new ArchitectureError(path, `must be a number in (0, ${max}], got ${show(value)}`);
  }
}

function optionalNumber(
  value: unknown,
  path: string,
  min: number,
  max: number,
  minInclusive: boolean,
  maxInclusive = true,
): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minInclusive ? value >= min : value > min) &&
    (maxInclusive ? value <= max : value < max);
  if (!ok) {
    const range = `${minInclusive ? '[' : '('}${min}, ${max}${maxInclusive ? ']' : ')'}`;
    throw new ArchitectureError(path, `must be a number in ${range}, got ${show(value)}`);
  }
}

function optionalActivation(value: unknown, path: string): void {
  if (value === undefined) return;
  if (!ACTIVATIONS.includes(value as Activation)) {
    throw new ArchitectureError(path, `must be one of ${ACTIVATIONS.join(', ')}, got ${show(value)}`);
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch {
    s = undefined;
  }
  // What JSON cannot write (a function, a symbol, a bigint, a cycle) is shown as String() has it.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any user-supplied value may land here
  if (s === undefined) return String(value);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
