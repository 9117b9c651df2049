/**
 * The federation the dashboard's browser tests look at: the coordinator and two parties as
 * processes, each with its own PostgreSQL database (so the job list holds this test's jobs
 * only), synthetic bank and e-commerce data, and the job requests and API calls the tests make.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createScratchDatabase } from '@vfl/database';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import { launchFederation, Federation } from '../../../scripts/federation-launcher';
import { launchChromium } from './dashboard-browser';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Metrics {
  auc: number;
  rows: number;
  positives: number;
  gainLift: { lift: number }[];
  confusion: { tp: number; fp: number; tn: number; fn: number };
  rocCurve: unknown[];
  ksCurve: unknown[];
}

/** The parts of GET /jobs/:id the tests compare the page with. */
export interface Job {
  id: string;
  state: string;
  error: string | null;
  epochs: { epoch: number; trainLoss?: number }[];
  result: {
    validationRows: number;
    validation: Metrics;
    labelOnly: { validation: { auc: number; rocCurve?: unknown[]; gainLift?: unknown[] } };
    datasets: Record<string, { rows: number; columns: number; contentSha256: string }>;
    epsilon?: number;
    earlyStopping?: { bestEpoch: number };
    importance?: { partyId: string; gain: number }[];
  };
}

const parties = (featurePath = 'ecommerce.csv') => [
  { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
  { partyId: 'ecommerce', role: 'feature', data: { path: featurePath } },
];

/** Split LR, 4 epochs; with another feature file name (one that does not exist), a job that fails at once. */
export const splitLr = (featurePath?: string) => ({
  model: 'split-lr',
  parties: parties(featurePath),
  hyperparameters: { epochs: 4, batchSize: 256 },
});

/** A small split NN with the Gaussian defence (so it has an ε) and early stopping (so a best epoch). */
export const splitNn = {
  model: 'split-nn',
  parties: parties(),
  nn: {
    architecture: {
      bottom: [{ units: 4, activation: 'relu' }],
      interactive: { units: 4 },
      top: [],
      training: {
        optimizer: 'adam',
        learningRate: 0.02,
        batchSize: 256,
        epochs: 3,
        seed: 3,
        earlyStopping: { patience: 3 },
      },
    },
    defence: { kind: 'gaussian', noiseMultiplier: 1, clipNorm: 1 },
  },
};

export interface DashboardFederation {
  readonly federation: Federation;
  readonly url: string;
  readonly adminKey: string;
  api<T>(path: string, init?: RequestInit, key?: string): Promise<T>;
  submit(body: object): Promise<{ id: string }>;
  /** Polls GET /jobs/:id until the job has ended. */
  finished(id: string): Promise<Job>;
  stop(): Promise<void>;
}

export async function startDashboardFederation(): Promise<DashboardFederation> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-dashboard-'));
  const data = await writeSyntheticVfl(path.join(work, 'data'), { seed: 5, bankRows: 1500, ecommerceRows: 1500 });
  const dbs: Record<string, { url: string; drop(): Promise<void> }> = {};
  for (const id of ['coordinator', 'bank', 'ecommerce'])
    dbs[id] = await createScratchDatabase(
      DATABASE_URL,
      `vfl_e2e_dashboard_${id}_${process.pid}_${Date.now() % 1_000_000}`,
    );
  const federation = await launchFederation({
    workDir: work,
    databaseUrl: dbs.coordinator.url,
    // The suite's jobs run side by side rather than two at a time: the setup is most of the specs' time.
    coordinatorEnv: { VFL_MAX_CONCURRENT_JOBS: '4' },
    parties: [
      { partyId: 'bank', role: 'label', dataRoot: path.dirname(data.bankPath), databaseUrl: dbs.bank.url },
      {
        partyId: 'ecommerce',
        role: 'feature',
        dataRoot: path.dirname(data.ecommercePath),
        databaseUrl: dbs.ecommerce.url,
      },
    ],
  });
  const api = async <T>(p: string, init: RequestInit = {}, key = federation.adminKey): Promise<T> => {
    const res = await fetch(`${federation.coordinatorUrl}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    federation,
    url: federation.coordinatorUrl,
    adminKey: federation.adminKey,
    api,
    submit: (body) => api<{ id: string }>('/jobs', { method: 'POST', body: JSON.stringify(body) }),
    async finished(id) {
      for (let i = 0; i < 600; i++) {
        const job = await api<Job>(`/jobs/${id}`);
        if (['succeeded', 'failed', 'cancelled'].includes(job.state)) return job;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`job ${id} did not finish`);
    },
    async stop() {
      await federation.stop();
      for (const db of Object.values(dbs)) await db.drop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Opens the dashboard and signs in with `key` (typed, then Enter). */
export async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/dashboard`);
  await page.locator('#api-key').fill(key);
  await page.locator('#api-key').press('Enter');
  await page.locator('#main').waitFor({ state: 'visible' });
}

/** A small SecureBoost job: two trees of depth two, enough for the importance panel. */
export const secureBoost = {
  model: 'secureboost',
  parties: parties(),
  secureboost: { trees: 2, maxDepth: 2, seed: 11 },
};

/** What each browser spec starts with: the federation, its jobs, and a page at 1280 × 800. */
export interface DashboardSuite {
  readonly fx: DashboardFederation;
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** A split-LR job that succeeded, one that failed (no such file at the feature party), a split NN that succeeded. */
  readonly jobs: { succeeded: Job; failed: Job; nn: Job; secureboost?: Job };
  /** Uncaught errors and console errors of `page`. */
  readonly pageErrors: string[];
  /** Every request `page` made, with its Authorization header. */
  readonly requests: { url: string; authorization?: string }[];
}

/** With `withSecureBoost`, a SecureBoost job runs too (jobs.secureboost). */
export async function openDashboardSuite(withSecureBoost = false): Promise<DashboardSuite> {
  const [fx, browser] = await Promise.all([startDashboardFederation(), launchChromium()]);
  const requests = [splitLr(), splitLr('no-such-file.csv'), splitNn, ...(withSecureBoost ? [secureBoost] : [])];
  const ids: { id: string }[] = [];
  for (const r of requests) ids.push(await fx.submit(r)); // in this order: the list shows them newest first
  const [succeeded, failed, nn, secureboost] = await Promise.all(ids.map((j) => fx.finished(j.id)));
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  const seen: DashboardSuite['requests'] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  page.on('request', (r) => seen.push({ url: r.url(), authorization: r.headers()['authorization'] }));
  return { fx, browser, context, page, jobs: { succeeded, failed, nn, secureboost }, pageErrors, requests: seen };
}

export async function closeDashboardSuite(suite: DashboardSuite | undefined): Promise<void> {
  await suite?.browser.close();
  await suite?.fx.stop();
}

/** Page steps the specs share: open a job by its fragment, read an element's text or number. */
export function pageSteps(page: Page) {
  const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
  return {
    async openJob(id: string) {
      await page.evaluate((h) => (location.hash = h), `job/${id}`);
      await page.locator(`#job-id`, { hasText: id }).waitFor();
    },
    text,
    number: async (selector: string) => Number((await text(selector)).replace(/,/g, '')),
  };
}
