import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeRuntimeFlags } from '../scripts/node-runtime';

describe('nodeRuntimeFlags', () => {
  it('runs GC on the allocating thread on two cores or fewer, and leaves bigger machines to V8', () => {
    expect(nodeRuntimeFlags(1)).toEqual(['--single-threaded-gc']);
    expect(nodeRuntimeFlags(2)).toEqual(['--single-threaded-gc']);
    expect(nodeRuntimeFlags(8)).toEqual([]);
  });

  it('starts a script under the flags and passes its exit code on (the launcher npm run bench uses)', () => {
    const launcher = path.resolve(__dirname, '../dist/scripts/node-runtime.js');
    const probe = 'process.stdout.write(JSON.stringify(process.execArgv)); process.exitCode = 3;';
    const script = path.join(os.tmpdir(), `vfl-node-runtime-${process.pid}.js`);
    fs.writeFileSync(script, probe);
    try {
      const run = spawnSync(process.execPath, [launcher, script], { encoding: 'utf8' });
      expect(run.status).toBe(3);
      expect(JSON.parse(run.stdout)).toEqual(nodeRuntimeFlags());
    } finally {
      fs.rmSync(script, { force: true });
    }
  });
});
