/**
 * One job at one party: what every model shares (roster, data, alignment, batches, peer channel
 * state, the mailbox of peer messages) and typed slots where each model keeps its own state. A
 * model declares its slots (`new JobSlot<LabelPartyLr | FeaturePartyLr>('split-lr model')`), so
 * the job carries no field for any model.
 */
import { epochBatches, RowSplit, type Standardizer } from '@vfl/ml';
import type { FittedPreprocessing, PartyTable, IdRule, Objective } from '@vfl/data';
import type { DataReference, PartyRole, RosterEntry } from '../wire/roster';
import { PartyError } from './party-error';

/** How a job's rows are split and batched, and how features are clipped: the same at every party. */
export interface DataSettings {
  readonly validationFraction: number;
  readonly seed: number;
  /** Standardised values are clipped to ±clipSigma (0: not clipped). */
  readonly clipSigma: number;
  readonly batchSize: number;
  /** How the label party reads its label column (default binary). */
  readonly objective?: Objective;
}

export type Split = 'train' | 'validation';

/** A typed place for one model's state in a job. */
export class JobSlot<T> {
  constructor(
    readonly name: string,
    /** Why the state is missing, for the error when a step needs it. */
    readonly missing = `no ${name} yet`,
  ) {}

  /** Type-only: what the slot holds. */
  declare readonly value: T;
}

/** A typed key of the job's mailbox: the message kind and the round it belongs to. */
export class MailKey<T> {
  constructor(readonly key: string) {}
  declare readonly value: T;
}

export function mailKey<T>(kind: string, ...parts: (string | number)[]): MailKey<T> {
  return new MailKey<T>([kind, ...parts].join(':'));
}

export interface AlignedData {
  readonly rows: number;
  /** Standardised values, with the label party's intercept column last. */
  readonly matrix: Float64Array;
  /** The party's values as read, in aligned row order (trees bin these: thresholds in the data's own units). */
  readonly raw: Float64Array;
  /** Without the intercept column (split NN has biases instead). */
  readonly standardized: Float64Array;
  readonly columns: number;
  readonly columnNames: string[];
  readonly labels?: Uint8Array;
  /** The label party's target: values (regression) or class numbers 0..classCount-1 (multiclass). */
  readonly targets?: Float64Array;
  readonly classCount?: number;
  readonly split: RowSplit;
  readonly standardizer: Standardizer;
  /** The job's declared preprocessing as fitted on the training rows (absent when none was declared). */
  readonly preprocessing?: FittedPreprocessing;
}

export class PartyJob {
  table?: PartyTable;
  aligned?: AlignedData;
  idRules: readonly IdRule[] = [];
  contentSha256 = '';
  exported = false;
  /** The model takes missing values as they are (SecureBoost bins them): undeclared columns keep NaN. */
  keepMissing = false;
  /** A prediction loads a saved model and runs inference steps only. */
  purpose: 'training' | 'prediction' = 'training';
  seq = 0;
  readonly lastSeq = new Map<string, number>();
  /** AES keys shared with each peer for this job. */
  readonly channelKeys = new Map<string, Uint8Array>();
  private readonly inbox = new Map<string, unknown>();
  private readonly slots = new Map<JobSlot<unknown>, unknown>();
  private batches?: { epoch: number; list: Int32Array[] };

  constructor(
    readonly id: string,
    readonly model: string,
    readonly role: PartyRole,
    readonly roster: readonly RosterEntry[],
    readonly data: DataReference,
    readonly settings: DataSettings,
  ) {}

  /** Two or more feature parties: PSI runs as a star around the label party (see ecdh-psi.ts). */
  get star(): boolean {
    return this.featureParties().length > 1;
  }

  featureParties(): RosterEntry[] {
    return this.roster.filter((r) => r.role === 'feature');
  }

  labelParty(): string {
    const label = this.roster.find((r) => r.role === 'label');
    if (!label) throw new PartyError(`job ${this.id} has no label party`);
    return label.partyId;
  }

  get<T>(slot: JobSlot<T>): T {
    if (!this.slots.has(slot)) throw new PartyError(`job ${this.id} has ${slot.missing}`);
    return this.slots.get(slot) as T;
  }

  find<T>(slot: JobSlot<T>): T | undefined {
    return this.slots.get(slot) as T | undefined;
  }

  set<T>(slot: JobSlot<T>, value: T): void {
    this.slots.set(slot, value);
  }

  clear(slot: JobSlot<unknown>): void {
    this.slots.delete(slot);
  }

  take<T>(key: MailKey<T>): T {
    if (!this.inbox.has(key.key)) throw new PartyError(`expected message ${key.key} has not arrived`);
    const value = this.inbox.get(key.key) as T;
    this.inbox.delete(key.key);
    return value;
  }

  put<T>(key: MailKey<T>, value: T): void {
    if (this.inbox.has(key.key)) throw new PartyError(`duplicate message ${key.key}`);
    this.inbox.set(key.key, value);
  }

  requireAligned(): AlignedData {
    if (!this.aligned) throw new PartyError(`job ${this.id} has not finished alignment`);
    return this.aligned;
  }

  requireTable(): PartyTable {
    if (!this.table) throw new PartyError(`job ${this.id} has no table to align (alignment already ran)`);
    return this.table;
  }

  /** The rows of training batch `index` of `epoch`: every party derives the same from the seed. */
  batch(epoch: number, index: number): Int32Array {
    const aligned = this.requireAligned();
    if (this.batches?.epoch !== epoch) {
      this.batches = {
        epoch,
        list: epochBatches(aligned.split.train, this.settings.batchSize, this.settings.seed, epoch),
      };
    }
    const rows = this.batches.list[index];
    if (!rows) throw new PartyError(`epoch ${epoch} has ${this.batches.list.length} batches, no batch ${index}`);
    return rows;
  }

  rows(split: Split): Int32Array {
    return split === 'train' ? this.requireAligned().split.train : this.requireAligned().split.validation;
  }

  dispose(): void {
    for (const value of this.slots.values()) {
      const d = value as { dispose?: () => unknown; close?: () => unknown } | undefined;
      if (typeof d?.dispose === 'function') void d.dispose();
      else if (typeof d?.close === 'function') void d.close();
    }
    this.slots.clear();
    this.channelKeys.forEach((k) => k.fill(0));
  }
}
