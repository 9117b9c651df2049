import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { CoordinatorConfig } from '../config/coordinator.config';
import { AuditService } from './audit.service';

describe(AuditService.name, () => {
  it('signs with the same kept key after a restart when VFL_SIGNING_KEY is unset', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-coordinator-key-'));
    try {
      const config = CoordinatorConfig.fromEnv({
        VFL_KEY_DIR: path.join(dir, '.vfl'),
        VFL_PARTIES: 'bank@127.0.0.1:7101,ecommerce@127.0.0.1:7102',
      });
      // The constructor reads or creates the key; the data source is not touched until a record.
      const ds = {} as DataSource;
      const first = new AuditService(ds, config).identity.publicKeyHex;
      const restarted = new AuditService(ds, config).identity.publicKeyHex;
      expect(restarted).toBe(first);
      expect(fs.statSync(path.join(dir, '.vfl', 'coordinator.key')).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
