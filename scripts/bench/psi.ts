/**
 * `psi [--protocol ecdh|kkrt] --size N [--small M] [--mode balanced|unbalanced] [--overlap F]
 * [--threads N] [--chunk-bins B] [--workers N]`: two-party ECDH-PSI with both parties in one process (each with
 * its own engine), and the floor the raw group operations set; with `--protocol kkrt`, KKRT16
 * PSI instead (psi-kkrt.ts; --mode and --threads do not apply).
 */
import * as os from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { utf8ToBytes } from '@noble/hashes/utils';
import { CountingPsiEngine, createPsiEngine, loadNativeHashToGroup, loadSodium, SodiumX25519Group } from '@vfl/crypto';
import {
  EcdhPsiSession,
  IdSource,
  KKRT_CHUNK_BINS,
  pipelineChunks,
  psiDomainTag,
  PsiResult,
  pipelineBigTags,
  pipelineSmallQueries,
  UnbalancedPsiBig,
  UnbalancedPsiSmall,
} from '@vfl/protocol';
import { parseBenchOptions, type BenchResult } from './options';
import { runKkrtPsiBench } from './psi-kkrt';
import { BenchPsiWorkers } from './psi-workers';
import { peakRssMb, printTable, round } from './report';

export async function runPsiBench(argv: string[]): Promise<BenchResult> {
  const values = parseBenchOptions(argv, {
    size: { type: 'string', default: '100000' },
    small: { type: 'string' },
    mode: { type: 'string', default: 'balanced' },
    overlap: { type: 'string', default: '0.5' },
    threads: { type: 'string' },
    protocol: { type: 'string', default: 'ecdh' },
    workers: { type: 'string', default: '0' },
    'chunk-bins': { type: 'string', default: String(KKRT_CHUNK_BINS) },
  });
  const size = Number(values.size);
  const small = values.small === undefined ? size : Number(values.small);
  const mode = values.mode;
  const overlap = Number(values.overlap);
  const threads = values.threads === undefined ? os.availableParallelism() : Number(values.threads);
  if (!Number.isInteger(size) || size < 1) throw new Error(`--size expects a positive integer, got ${values.size}`);
  if (!Number.isInteger(small) || small < 1 || small > size)
    throw new Error(`--small expects a positive integer up to --size, got ${values.small}`);
  if (mode !== 'balanced' && mode !== 'unbalanced')
    throw new Error(`--mode expects balanced or unbalanced, got ${mode}`);
  if (!(overlap >= 0 && overlap <= 1)) throw new Error(`--overlap expects a fraction in [0, 1], got ${values.overlap}`);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`--threads expects a positive integer, got ${values.threads}`);
  if (values.protocol === 'kkrt') {
    const chunkBins = Number(values['chunk-bins']);
    if (!Number.isInteger(chunkBins) || chunkBins < 32 || chunkBins % 32 !== 0)
      throw new Error(`--chunk-bins expects a positive multiple of 32, got ${values['chunk-bins']}`);
    return runKkrtPsiBench({ size, small, overlap, chunkBins });
  }
  if (values.protocol !== 'ecdh') throw new Error(`--protocol expects ecdh or kkrt, got ${values.protocol}`);
  // `overlap` is the shared fraction of the small list.
  const shared = Math.round(small * overlap);
  // IDs are generated on demand, so the party's ID list costs no memory at any size: the big side
  // holds 13000000000.., the small side the first `shared` of those and then IDs B does not have.
  const idsBig: IdSource = { size, at: (i) => `1${3_000_000_000 + i}` };
  const idsSmall: IdSource = { size: small, at: (i) => `1${3_000_000_000 + (i < shared ? i : size + i)}` };
  const dst = psiDomainTag(randomUUID());
  // Each party gets its own engine, as each service does; they take turns on the same cores.
  // The small side's is wrapped to count its group operations and the time they keep it busy.
  // --workers N: both parties' group operations go to N psi-worker processes through NATS JetStream.
  const workerCount = Number(values.workers);
  if (!Number.isInteger(workerCount) || workerCount < 0)
    throw new Error(`--workers expects a non-negative integer, got ${values.workers}`);
  const workers = workerCount > 0 ? await BenchPsiWorkers.start(workerCount) : null;
  const engineOf = async () => (workers ? await workers.engine() : createPsiEngine(threads));
  const smallEngine = new CountingPsiEngine(await engineOf());
  const engines = [smallEngine, await engineOf()];
  const cpu0 = process.cpuUsage();
  const busy = new BusyClock();

  const t0 = process.hrtime.bigint();
  let bytes = 0;
  let intersection: number;
  let progress: ProgressLine;
  if (mode === 'balanced') {
    const alice = new EcdhPsiSession(smallEngine, idsSmall, dst);
    const bob = new EcdhPsiSession(engines[1], idsBig, dst);
    progress = new ProgressLine(2 * (small + size), () => {
      const [pa, pb] = [alice.progress(), bob.progress()];
      return pa.ownDone + pa.peerDone + pb.ownDone + pb.peerDone;
    });
    // Both directions one after the other, as exchangeLocally does, counting the payload bytes.
    const direction = (sender: EcdhPsiSession, receiver: EcdhPsiSession, own: boolean) =>
      pipelineChunks(
        sender,
        async (k, blinded) => {
          bytes += blinded.length;
          const answer = await receiver.blindPeerChunk(sender.header(k), blinded);
          bytes += answer.length;
          return answer;
        },
        (k, answer) => (own ? busy.time(() => sender.acceptOwnChunk(k, answer)) : sender.acceptOwnChunk(k, answer)),
      );
    await direction(alice, bob, true);
    await direction(bob, alice, false);
    const ra: PsiResult = await busy.timeAsync(() => alice.finish());
    const rb: PsiResult = await bob.finish();
    if (rb.orderDigest !== ra.orderDigest) throw new Error('PSI result is wrong (digests differ)');
    intersection = ra.sharedIds.length;
  } else {
    const s = new UnbalancedPsiSmall(smallEngine, idsSmall, dst);
    const b = new UnbalancedPsiBig(engines[1], idsBig, dst);
    progress = new ProgressLine(2 * small + size, () => {
      const [ps, pb] = [s.progress(), b.progress()];
      return ps.ownDone + pb.peerDone + pb.ownDone;
    });
    // The two phases one after the other, so that the small side's time is not inflated by sharing
    // the cores with the big side's tag stream (the services run them at once, on separate machines).
    await pipelineSmallQueries(s, async (k, blinded) => {
      bytes += blinded.length;
      const answer = await b.answerQuery(s.header(k), blinded);
      bytes += answer.length;
      return answer;
    });
    await pipelineBigTags(b, async (k, tags) => {
      bytes += tags.length;
      busy.time(() => s.acceptPeerTags(b.header(k), tags));
    });
    const result = busy.time(() => s.finish());
    bytes += result.peerPositions.length * 4;
    const bigIds = b.idsAtPositions(result.peerPositions);
    if (bigIds.length !== result.sharedIds.length || bigIds.some((id, k) => id !== result.sharedIds[k]))
      throw new Error('PSI result is wrong (the sides disagree)');
    intersection = result.sharedIds.length;
  }
  progress.stop();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const workerCpuSeconds = workers ? workers.cpuSeconds() : 0;
  const cpuSecondsPerId = ((cpu.user + cpu.system) / 1e6 + workerCpuSeconds) / (small + size);
  workers?.stop();
  await Promise.all(engines.map((e) => e.close()));
  if (intersection !== shared) throw new Error(`PSI result is wrong: ${intersection} shared, expected ${shared}`);
  const smallSideSeconds = smallEngine.busySeconds + busy.seconds;

  // Floor: the raw group operations the protocol needs, timed on a sample on one core in this
  // thread and divided by the cores, as if perfectly parallel. Balanced: every ID is hashed once
  // and multiplied twice; unbalanced: |S| + |B| hashes, 3|S| + |B| multiplications.
  const group = loadSodium() ? new SodiumX25519Group() : null;
  const sample = Math.min(size, 20_000);
  const k = randomBytes(32);
  const messages = Array.from({ length: sample }, (_, i) => utf8ToBytes(idsBig.at(i)));
  const t1 = process.hrtime.bigint();
  const points = group ? group.hashToGroupPacked(messages, dst) : new Uint8Array(0);
  const tHash = Number(process.hrtime.bigint() - t1) / 1e9;
  // The libsodium path the C addon replaces, timed on the same sample for comparison.
  const t1s = process.hrtime.bigint();
  if (group) group.hashToGroupPackedSodium(messages, dst);
  const tHashSodium = Number(process.hrtime.bigint() - t1s) / 1e9;
  const t2 = process.hrtime.bigint();
  if (group) group.multiplyPacked(k, points);
  const tMul = Number(process.hrtime.bigint() - t2) / 1e9;
  const cores = Math.min(threads, os.availableParallelism());
  const [hashes, multiplications] =
    mode === 'balanced' ? [small + size, 2 * (small + size)] : [small + size, 3 * small + size];
  const floorSeconds = (hashes * tHash + multiplications * tMul) / sample / cores;

  const result = {
    protocol: 'ecdh',
    size,
    intersection,
    seconds: round(seconds, 2),
    floorSeconds: round(floorSeconds, 2),
    peakRssMb: peakRssMb(),
    curve: engines[1].name,
    cores,
    workers: workerCount,
    cpuSecondsPerId: round(cpuSecondsPerId * 1e6, 1) / 1e6,
    mode,
    small,
    smallSideSeconds: round(smallSideSeconds, 2),
    smallSideGroupOps: smallEngine.groupOps,
    bytes,
  };
  printTable(
    `ECDH-PSI (${mode}), ${small} x ${size} IDs, ${overlap * 100}% of the small list shared, both parties in one process, ${cores} cores`,
    [
      ['intersection', String(result.intersection)],
      ['seconds', String(result.seconds)],
      ['floor seconds (raw group ops / cores)', String(result.floorSeconds)],
      ['PSI / floor', (seconds / floorSeconds).toFixed(2)],
      ['small side: seconds busy', String(result.smallSideSeconds)],
      ['small side: group operations', String(result.smallSideGroupOps)],
      ['payload bytes exchanged', String(bytes)],
      ['IDs per second (both parties)', String(Math.round((small + size) / seconds))],
      [
        `hash-to-group per second per core (${loadNativeHashToGroup() ? 'C addon' : 'libsodium'})`,
        String(Math.round(sample / tHash)),
      ],
      ['hash-to-group per second per core (libsodium path)', String(Math.round(sample / tHashSodium))],
      ['X25519 per second per core', String(Math.round(sample / tMul))],
      ['peak RSS MB (both parties)', String(result.peakRssMb)],
      ['CPU µs per ID (this process and the psi-workers)', (cpuSecondsPerId * 1e6).toFixed(0)],
      ['psi-worker processes (NATS JetStream)', String(workerCount)],
      ['engine', result.curve],
    ],
  );
  return result;
}

/** Wall time spent in one party's own main-thread work (matching, bookkeeping). */
class BusyClock {
  private ns = 0n;
  get seconds(): number {
    return Number(this.ns) / 1e9;
  }
  time<T>(work: () => T): T {
    const t = process.hrtime.bigint();
    try {
      return work();
    } finally {
      this.ns += process.hrtime.bigint() - t;
    }
  }
  async timeAsync<T>(work: () => Promise<T>): Promise<T> {
    const t = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      this.ns += process.hrtime.bigint() - t;
    }
  }
}

/** Element operations done, rate and ETA on stderr every 5 s (the total counts each ID twice per party). */
class ProgressLine {
  private readonly start = Date.now();
  private readonly timer: NodeJS.Timeout;
  constructor(total: number, done: () => number) {
    this.timer = setInterval(() => {
      const d = done();
      const rate = d / ((Date.now() - this.start) / 1000);
      const eta = rate > 0 ? (total - d) / rate : 0;
      process.stderr.write(`  ${d}/${total} element operations, ${Math.round(rate)}/s, ETA ${eta.toFixed(0)} s\n`);
    }, 5000);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}
