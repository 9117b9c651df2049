/**
 * WOE binning at a party: settings at job.prepare; with the BFV public key (he.keys) each party
 * bins its own columns on the training rows; the label party encrypts its labels, a feature party
 * returns masked per-bin event sums and, once the coordinator releases them, removes its masks and
 * finishes its WOE tables. Each party keeps its full tables (its model); bin.tables replies with
 * what the job shares. The math is in feature-bins.ts and woe-counting.ts.
 */
import { BfvContext, BfvEngine, BFV_N4096_T21, ckksWorkerThreads, createBfvEngine } from '@vfl/crypto';
import type { CountingLayout } from './woe-counting';
import { PartyError } from '../party/party-error';
import { JobSlot, mailKey, PartyJob } from '../party/party-job';
import { onJobCommand, onPeer, PartyHandlerGroup, PartyModelHooks } from '../party/party-model';
import type { StoredPartyModel } from '../party/stored-model';
import { checked } from '../wire/command';
import * as bin from './commands';
import { binColumns, ColumnBinning, CountedColumn, finishColumn, missingSlot, slotRows } from './feature-bins';
import { binningSettings, BinningSettings, countedBins } from './settings';
import { countingLayout, labelChunks, maskedEventSums, unmaskedEvents } from './woe-counting';
import { savedPartBase } from '../party/saved-part';

export const BINNING = 'binning';

export const BINNING_SETTINGS = new JobSlot<BinningSettings>('binning settings');

/** A party's binning: its columns binned for counting, its BFV engine, and (once counted) its tables. */
export class BinningState {
  masks?: BigUint64Array[];
  tables?: ColumnBinning[];

  constructor(
    readonly settings: BinningSettings,
    readonly bfv: BfvContext,
    readonly engine: BfvEngine,
    readonly layout: CountingLayout,
    readonly train: Int32Array,
    readonly columns: readonly CountedColumn[],
  ) {}

  /** The finished tables (bin.tables, export, and the steps that follow in a pipeline). */
  finished(): ColumnBinning[] {
    if (!this.tables) throw new PartyError('binning has not finished here yet');
    return this.tables;
  }

  dispose(): void {
    void this.engine.close().finally(() => this.bfv.dispose());
  }
}

export const BINNING_STATE = new JobSlot<BinningState>('binning', 'no keys yet (he.keys not received)');
const labelsKey = mailKey<readonly Uint8Array[]>('bin.labels');

/** What a party keeps of a binning job: per column its cut points and every bin's rows, events, WOE and IV. */
export interface BinningPartyModel extends StoredPartyModel {
  readonly family: 'binning';
  readonly binning: ColumnBinning[];
}

export function binningHooks(settingsOf: (job: PartyJob) => BinningSettings): PartyModelHooks {
  return {
    // Missing values have a bin of their own.
    missingValues: true,
    async installKeys(job, bundle, _widths, node) {
      if (bundle.parameterSet !== BFV_N4096_T21.name)
        throw new PartyError(`job ${job.id}: binning expects the ${BFV_N4096_T21.name} parameter set`);
      const settings = settingsOf(job);
      const a = job.requireAligned();
      const train = a.split.train;
      const columns = binColumns(a.raw, a.columnNames, train, settings);
      job.find(BINNING_STATE)?.dispose();
      const bfv = await BfvContext.create(BFV_N4096_T21);
      const threads = ckksWorkerThreads(node.ckksThreads);
      const engine = createBfvEngine(bfv, threads, job.role === 'label' ? bundle.publicKey : undefined);
      const layout = countingLayout(bfv.degree, countedBins(settings), train.length);
      job.set(BINNING_STATE, new BinningState(settings, bfv, engine, layout, train, columns));
    },
    exportModel(job, node): BinningPartyModel {
      return {
        ...savedPartBase(job, node.partyId, { clipSigma: 0 }),
        family: 'binning',
        binning: job.get(BINNING_STATE).finished(),
      };
    },
  };
}

/** The label party's own tables, counted in plaintext, and its labels' chunks, encrypted. */
async function labelStep(job: PartyJob): Promise<Uint8Array[]> {
  const state = job.get(BINNING_STATE);
  const labels = job.requireAligned().labels!;
  const { train, settings } = state;
  let events = 0;
  for (const r of train) events += labels[r];
  if (events === 0 || events === train.length)
    throw new PartyError(
      `binning: the label column ${job.data.labelColumn ?? 'y'} has one class in the training rows (all ${events === 0 ? 0 : 1})`,
    );
  const missing = missingSlot(settings);
  state.tables = state.columns.map((c) => {
    const counted = new Array<number>(c.valueBins + 1).fill(0);
    for (const r of train) counted[c.slots[r] === missing ? c.valueBins : c.slots[r]] += labels[r];
    return finishColumn(c, counted, slotRows(c, train, missing), settings);
  });
  return state.engine.encrypt(labelChunks(state.layout, train, labels));
}

/** The part of a party's tables it shares. */
export function sharedTables(tables: readonly ColumnBinning[], share: BinningSettings['share']): bin.SharedFeature[] {
  if (share === 'none') return [];
  return tables.map((t, index) => ({
    column: t.column,
    index,
    bins: t.table.bins.length,
    iv: t.table.iv,
    ...(share === 'woe' ? { woe: t.table.bins.map((b) => b.woe), binIv: t.table.bins.map((b) => b.iv) } : {}),
  }));
}

/** The binning commands, for a binning job or a pipeline step. */
export const binningCommands = [
  onJobCommand(bin.encryptLabels, async (_, job, call) => {
    if (job.role !== 'label') throw new PartyError(`${bin.encryptLabels.name} is a label-party step`);
    const chunks = await labelStep(job);
    await Promise.all(job.featureParties().map((f) => call.send(job, f.partyId, bin.labelShare, { chunks })));
    return { chunks: chunks.length };
  }),
  onJobCommand(bin.maskedSums, async (_, job) => {
    if (job.role !== 'feature') throw new PartyError(`${bin.maskedSums.name} is a feature-party step`);
    const state = job.get(BINNING_STATE);
    const chunks = job.take(labelsKey);
    const slots = state.columns.map((c) => c.slots);
    const { sums, masks } = await maskedEventSums(state.bfv, state.engine, state.layout, state.train, slots, chunks);
    state.masks = masks;
    return { sums };
  }),
  onJobCommand(bin.release, ({ released }, job) => {
    const state = job.get(BINNING_STATE);
    if (!state.masks || state.tables) throw new PartyError(`${bin.release.name}: no masked sums are outstanding`);
    const events = unmaskedEvents(state.bfv, state.layout, state.columns.length, released, state.masks);
    state.masks = undefined;
    const missing = missingSlot(state.settings);
    state.tables = state.columns.map((c, j) => {
      const counted = [...events[j].slice(0, c.valueBins), events[j][missing]];
      return finishColumn(c, counted, slotRows(c, state.train, missing), state.settings);
    });
    return {};
  }),
  onJobCommand(bin.tables, (_, job) => {
    const state = job.get(BINNING_STATE);
    return { features: sharedTables(state.finished(), state.settings.share) };
  }),
];

export const binningPeers = [onPeer(bin.labelShare, (body, job) => job.put(labelsKey, body.chunks))];

export const binningHandlers: PartyHandlerGroup = {
  model: BINNING,
  hooks: {
    ...binningHooks((job) => job.get(BINNING_SETTINGS)),
    prepare(job, raw) {
      job.set(BINNING_SETTINGS, checked(binningSettings, raw, `job ${job.id}: binning`));
    },
  },
  commands: binningCommands,
  peers: binningPeers,
};
