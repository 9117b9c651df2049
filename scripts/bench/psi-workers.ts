/**
 * `psi --workers N`: the ECDH bench's group operations on N psi-worker processes
 * (dist/scripts/psi-worker.js) pulling the NATS JetStream work queue at NATS_URL (default the local
 * server), and the CPU seconds they spend (from /proc), so the cost per element can be compared
 * across worker counts. On one machine the cores bound the gain.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NatsPsiEngine } from '@vfl/transport';

export class BenchPsiWorkers {
  private constructor(
    private readonly workers: ChildProcess[],
    readonly natsUrl: string,
  ) {}

  static async start(count: number): Promise<BenchPsiWorkers> {
    const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
    const script = path.resolve(__dirname, '..', 'psi-worker.js');
    const workers: ChildProcess[] = [];
    for (let i = 0; i < count; i++) {
      const w = spawn(process.execPath, [script], {
        env: { ...process.env, NATS_URL: natsUrl },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      workers.push(w);
      await new Promise<void>((resolve, reject) => {
        w.stdout.once('data', () => resolve());
        w.once('exit', (code) => reject(new Error(`psi-worker exited with ${code}`)));
      });
    }
    return new BenchPsiWorkers(workers, natsUrl);
  }

  engine(): Promise<NatsPsiEngine> {
    return NatsPsiEngine.connect(this.natsUrl);
  }

  /** User + system CPU seconds the workers have used so far (Linux /proc, 100 ticks a second). */
  cpuSeconds(): number {
    let ticks = 0;
    for (const w of this.workers) {
      const stat = fs.readFileSync(`/proc/${w.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    }
    return ticks / 100;
  }

  stop(): void {
    for (const w of this.workers) w.kill('SIGTERM');
  }
}
