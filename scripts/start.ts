/**
 * `npm start`: the coordinator and the two demo parties (bank, ecommerce) as services that stay up
 * until Ctrl-C, with the embedded defaults: audit in an embedded PostgreSQL kept under .vfl/pgdata
 * (or DATABASE_URL), each party's data root under .vfl/<party>-data (seeded synthetic tables are
 * written there the first time), the API on PORT (default 8080). VFL_ADMIN_KEY sets the first admin
 * API key; otherwise one is generated and printed once. VFL_STATE_DIR moves .vfl, VFL_BANK_PORT and
 * VFL_ECOMMERCE_PORT the parties (7101, 7102).
 *
 * A service that dies (a crash, kill -9) is reported at once on stderr, by name, with the end of
 * its log; the coordinator's GET /health then shows the party unreachable. When the coordinator
 * itself dies, the parties are stopped too and the launcher exits with status 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { issueApiKey, isApiKey } from '@vfl/access';
import { loadOrCreateKeyFile } from '@vfl/crypto';
import { BANK_LABEL_COLUMN, writeSyntheticVfl } from '@vfl/data';
import { launchFederation, type Federation } from './federation-launcher';

const ROOT = path.resolve(__dirname, path.basename(path.resolve(__dirname, '..')) === 'dist' ? '../..' : '..');
const STATE = process.env.VFL_STATE_DIR ? path.resolve(process.env.VFL_STATE_DIR) : path.join(ROOT, '.vfl');

async function main(): Promise<void> {
  const bankData = path.join(STATE, 'bank-data');
  const shopData = path.join(STATE, 'ecommerce-data');
  if (!fs.existsSync(path.join(bankData, 'bank.csv'))) {
    const generated = await writeSyntheticVfl(path.join(STATE, 'generated'));
    fs.mkdirSync(bankData, { recursive: true });
    fs.mkdirSync(shopData, { recursive: true });
    fs.renameSync(generated.bankPath, path.join(bankData, 'bank.csv'));
    fs.renameSync(generated.ecommercePath, path.join(shopData, 'ecommerce.csv'));
  }
  const jobFile = path.join(STATE, 'example-job.json');
  fs.writeFileSync(
    jobFile,
    JSON.stringify(
      {
        model: 'split-lr',
        parties: [
          { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
          { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } },
        ],
        hyperparameters: { epochs: 10 },
      },
      null,
      2,
    ),
  );
  const given = process.env.VFL_ADMIN_KEY;
  if (given && !isApiKey(given)) throw new Error('VFL_ADMIN_KEY must look like vfl_<12 hex>_<43 base64url characters>');
  const adminKey = given ?? issueApiKey().key;
  const port = Number(process.env.PORT ?? 8080);
  const bankPort = Number(process.env.VFL_BANK_PORT ?? 7101);
  const shopPort = Number(process.env.VFL_ECOMMERCE_PORT ?? 7102);
  // The coordinator's signing key is kept under .vfl (created on first start), so a restart signs
  // with the same key and earlier trails stay trusted; VFL_SIGNING_KEY overrides it.
  const signingKey = process.env.VFL_SIGNING_KEY || loadOrCreateKeyFile(STATE, 'coordinator').seedHex;
  let stopping = false;
  // Set once launched; read by stop(), which a service dying during the launch may call first.
  const running: { federation?: Federation } = {};
  const stop = async (status: number) => {
    if (stopping) return;
    stopping = true;
    await running.federation?.stop();
    process.exit(status);
  };
  const federation = (running.federation = await launchFederation({
    workDir: STATE,
    transport: process.env.VFL_TRANSPORT === 'nats' ? 'nats' : 'tcp',
    databaseUrl: process.env.DATABASE_URL,
    adminKey,
    ports: { coordinator: port, parties: { bank: bankPort, ecommerce: shopPort } },
    onUnexpectedExit: (exit) => {
      if (stopping) return;
      console.error(`\n${new Date().toISOString()} ${exit.name} DIED: ${exit.message}`);
      if (exit.name === 'coordinator') {
        console.error('stopping the parties: nothing runs without the coordinator');
        void stop(1);
      } else {
        console.error(`the coordinator's GET /health now shows ${exit.name} unreachable; restart with npm start`);
      }
    },
    coordinatorEnv: {
      VFL_SIGNING_KEY: signingKey,
      VFL_KEY_DIR: STATE,
      ...(process.env.DATABASE_URL ? {} : { VFL_PGLITE_DIR: path.join(STATE, 'pgdata') }),
    },
    parties: [
      // Each party keeps its own audit log, in an embedded PostgreSQL of its own.
      { partyId: 'bank', role: 'label', dataRoot: bankData, pgliteDir: path.join(STATE, 'bank-audit') },
      { partyId: 'ecommerce', role: 'feature', dataRoot: shopData, pgliteDir: path.join(STATE, 'ecommerce-audit') },
    ],
  }));
  console.log(`coordinator  ${federation.coordinatorUrl}   (API docs: ${federation.coordinatorUrl}/docs)`);
  console.log(`parties      bank (label) on 127.0.0.1:${bankPort}, ecommerce (feature) on 127.0.0.1:${shopPort}`);
  console.log(`logs         ${federation.logDir}`);
  if (!given) console.log(`admin key    ${adminKey}   (generated now and shown once: set VFL_ADMIN_KEY to choose it)`);
  console.log(
    `try          VFL_API_URL=${federation.coordinatorUrl} VFL_API_KEY=<admin key> npx vfl job submit ${path.relative(process.cwd(), jobFile)}`,
  );
  if (!process.env.DATABASE_URL)
    console.log(
      `audit        npx vfl audit verify   (finds the embedded database through ${path.join(STATE, 'database.json')})`,
    );
  console.log('Ctrl-C stops all three.');
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
}

main().catch((e) => {
  console.error(`start failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
