/**
 * `psi --protocol kkrt --size N [--small M] [--overlap F] [--chunk-bins B]`: two-party KKRT16 PSI
 * (libs/protocol/src/psi/kkrt-psi.ts) with both parties in one process, one thread, and its floor:
 * the protocol's cryptographic kernels alone (base OTs, AES PRG, code and tag batches, transposes),
 * timed on a sample of bins and scaled to the run's sizes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  KkrtOprfReceiver,
  KkrtOprfSender,
  kkrtHashKey,
  kkrtTags,
  KKRT_ROW_WORDS,
  CUCKOO_HASHES,
  cuckooBinCount,
} from '@vfl/crypto';
import { IdSource, KkrtPsiReceiver, KkrtPsiSender, psiDomainTag, runKkrtLocally } from '@vfl/protocol';
import type { BenchResult } from './options';
import { peakRssMb, printTable, round } from './report';

export interface KkrtBenchSettings {
  readonly size: number;
  readonly small: number;
  readonly overlap: number;
  readonly chunkBins: number;
}

export async function runKkrtPsiBench(o: KkrtBenchSettings): Promise<BenchResult> {
  const shared = Math.round(o.small * o.overlap);
  // The same generated IDs as the ECDH bench: the receiver holds the small list, the sender the big one.
  const idsBig: IdSource = { size: o.size, at: (i) => `1${3_000_000_000 + i}` };
  const idsSmall: IdSource = { size: o.small, at: (i) => `1${3_000_000_000 + (i < shared ? i : o.size + i)}` };
  const dst = psiDomainTag(randomUUID());
  // The floor first, in a fresh process: timed after the run, a 10M run's live result (5M IDs per
  // side) made the garbage collector inflate it several times over.
  const floorSeconds = kernelFloor(o.small, o.size);
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  const result = await runKkrtLocally(
    new KkrtPsiReceiver(idsSmall, dst, { chunkBins: o.chunkBins }),
    new KkrtPsiSender(idsBig, dst),
    (m) => m.bytes.forEach((b) => (bytes += b.length)),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (result.receiver.length !== shared || result.sender.length !== shared)
    throw new Error(
      `PSI result is wrong: ${result.receiver.length}/${result.sender.length} shared, expected ${shared}`,
    );
  if (result.receiver.some((id, k) => id !== result.sender[k])) throw new Error('PSI result is wrong (sides differ)');

  const out = {
    protocol: 'kkrt',
    size: o.size,
    small: o.small,
    intersection: shared,
    seconds: round(seconds, 2),
    floorSeconds: round(floorSeconds, 2),
    peakRssMb: peakRssMb(),
    threads: 1,
    bytes,
  };
  printTable(
    `KKRT-PSI, ${o.small} (receiver) x ${o.size} (sender) IDs, ${o.overlap * 100}% of the receiver's list shared, both parties in one process, one thread`,
    [
      ['intersection', String(shared)],
      ['seconds', String(out.seconds)],
      ['floor seconds (crypto kernels, one thread)', String(out.floorSeconds)],
      ['PSI / floor', (seconds / floorSeconds).toFixed(2)],
      ['payload bytes exchanged', String(bytes)],
      ['IDs per second (both parties)', String(Math.round((o.small + o.size) / seconds))],
      ['peak RSS MB (both parties)', String(out.peakRssMb)],
    ],
  );
  return out;
}

/** Base OTs once, then per bin R's and S's matrix work and tags, per sender pair its code and tag. */
function kernelFloor(receiverItems: number, senderItems: number): number {
  const sample = 32_768;
  const t0 = process.hrtime.bigint();
  const r = new KkrtOprfReceiver();
  const s = new KkrtOprfSender();
  r.start(s.respond(r.basePoint), s.codeKey);
  const tBase = Number(process.hrtime.bigint() - t0) / 1e9;
  const items = new Uint32Array(randomBytes(sample * 32).buffer);
  const key = kkrtHashKey(new Uint8Array(16));
  const bins = Uint32Array.from({ length: sample }, (_, i) => i);
  const hashes = new Uint8Array(sample);
  const tags = new Uint32Array(sample * 3);
  const t1 = process.hrtime.bigint();
  const { u, t } = r.chunk(items, sample);
  kkrtTags(key, t, bins, hashes, sample, tags);
  const q = s.chunk(u, sample);
  const tBin = Number(process.hrtime.bigint() - t1) / 1e9 / sample;
  const t2 = process.hrtime.bigint();
  kkrtTags(key, s.evaluate(q, bins, items, bins, sample), bins, hashes, sample, tags);
  const tPair = Number(process.hrtime.bigint() - t2) / 1e9 / sample;
  if (q.length !== sample * KKRT_ROW_WORDS) throw new Error('floor sample has the wrong shape');
  return tBase + cuckooBinCount(receiverItems) * tBin + CUCKOO_HASHES * senderItems * tPair;
}
