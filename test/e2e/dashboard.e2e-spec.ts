/// <reference lib="dom" />
// (DOM types: the page.evaluate callbacks below run in the browser.)
/**
 * The web dashboard in a real browser: the coordinator and both parties run as processes, headless
 * Chromium (Debian's, driven by playwright-core) opens GET /dashboard, takes the API key, follows a
 * job live over the event stream until it succeeds, and draws its curves and tables from the API.
 * VFL_DASHBOARD_SCREENSHOT=file.png saves a full-page screenshot of the finished job.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import { launchFederation, Federation } from '../../scripts/federation-launcher';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

// Skipping is for developer machines without a browser only; under CI a missing one is a failure.
const runnable = fs.existsSync(CHROMIUM) || !!process.env.CI;
if (!runnable)
  console.warn(
    `dashboard e2e skipped: ${CHROMIUM} is missing (apt-get install chromium); it always runs under CI=true`,
  );
const describeIfBrowser = runnable ? describe : describe.skip;

interface Job {
  id: string;
  state: string;
  result: {
    validationRows: number;
    validation: {
      gainLift: { lift: number }[];
      confusion: { tp: number; fp: number; tn: number; fn: number };
      rocCurve: unknown[];
      ksCurve: unknown[];
    };
  };
}

describeIfBrowser('web dashboard in headless Chromium', () => {
  let federation: Federation;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const requests: { url: string; authorization?: string }[] = [];

  const api = async <T>(p: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${federation.coordinatorUrl}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' },
    });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-dashboard-'));
    const data = await writeSyntheticVfl(path.join(work, 'data'), { seed: 5, bankRows: 1500, ecommerceRows: 1500 });
    [federation, browser] = await Promise.all([
      launchFederation({
        workDir: work,
        databaseUrl: DATABASE_URL,
        parties: [
          { partyId: 'bank', role: 'label', dataRoot: path.dirname(data.bankPath) },
          { partyId: 'ecommerce', role: 'feature', dataRoot: path.dirname(data.ecommercePath) },
        ],
      }),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers()['authorization'] }));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  it('serves the page and its assets without a key, and no data without one', async () => {
    const res = await fetch(`${federation.coordinatorUrl}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('/dashboard/vendor/chart.umd.min.js');
    for (const asset of ['dashboard.js', 'dashboard.css', 'vendor/chart.umd.min.js']) {
      expect((await fetch(`${federation.coordinatorUrl}/dashboard/${asset}`)).status).toBe(200);
    }
    expect((await fetch(`${federation.coordinatorUrl}/jobs`)).status).toBe(401);
  });

  it('takes the API key, follows a job live until it succeeds, and draws its curves, tables and audit trail', async () => {
    await page.goto(`${federation.coordinatorUrl}/dashboard`);
    await page.locator('#api-key').fill('vfl_not_a_real_key');
    await page.locator('#key-form button[type=submit]').click();
    await page.locator('#key-error').waitFor({ state: 'visible' });
    expect(await page.locator('#key-error').textContent()).toContain('refused this API key');

    await page.locator('#api-key').fill(federation.adminKey);
    await page.locator('#key-form button[type=submit]').click();
    await page.locator('#app').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.getItem('vfl.apiKey'))).toBe(federation.adminKey);

    const job = await api<{ id: string }>('/jobs', {
      method: 'POST',
      body: JSON.stringify({
        model: 'split-lr',
        parties: [
          { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
          { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } },
        ],
        hyperparameters: { epochs: 4, batchSize: 256 },
      }),
    });
    await page.locator('#refresh-jobs').click();
    await page.locator(`#jobs tr[data-job-id="${job.id}"]`).click();
    await page.locator('#job-state', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });

    // Seen through the event stream while it ran, not only in the final GET.
    const live = await page
      .locator('#live-events li')
      .evaluateAll((items) =>
        items.map((li) => ({ type: (li as HTMLElement).dataset.type, state: (li as HTMLElement).dataset.state })),
      );
    expect(live.filter((e) => e.type === 'state').map((e) => e.state)).toEqual(
      expect.arrayContaining(['training', 'evaluating', 'succeeded']),
    );
    expect(live.filter((e) => e.type === 'epoch')).toHaveLength(4);
    expect(live.some((e) => e.type === 'progress')).toBe(true);

    const finished = await api<Job>(`/jobs/${job.id}`);
    expect(finished.state).toBe('succeeded');
    await page.locator('#lift tbody tr').nth(9).waitFor();
    expect(await page.locator('#lift tbody tr').count()).toBe(10);
    const topLift = await page.locator('#lift tbody tr').first().locator('td').nth(6).textContent();
    expect(topLift).toBe(finished.result.validation.gainLift[0].lift.toFixed(2));
    const cells = await Promise.all(
      ['tp', 'fn', 'fp', 'tn'].map(async (k) =>
        Number((await page.locator(`#cm-${k}`).textContent())!.replace(/,/g, '')),
      ),
    );
    const { tp, fn, fp, tn } = finished.result.validation.confusion;
    expect(cells).toEqual([tp, fn, fp, tn]);
    expect(cells.reduce((a, b) => a + b)).toBe(finished.result.validationRows);

    // The page reloads the trail when the stream ends: wait for it to show the whole chain.
    const trail = await api<{ verification: { valid: boolean; events: number } }>(`/jobs/${job.id}/audit?limit=1`);
    expect(trail.verification.valid).toBe(true);
    await page
      .locator('#audit-verification', {
        hasText: `chain valid, ${trail.verification.events.toLocaleString('en')} events`,
      })
      .waitFor();
    expect(await page.locator('#audit tbody tr').count()).toBe(Math.min(50, trail.verification.events));
    await page.locator('#audit-next').click(); // the next page of the trail
    await page.locator('#audit-range', { hasText: `51–${Math.min(100, trail.verification.events)} of` }).waitFor();
    expect(await page.locator('#audit tbody tr').first().locator('td').first().textContent()).toBe('50');
    expect(trail.verification.events).toBeGreaterThan(50); // every step and cross-party message is a record
    expect(await page.locator('#job-error').isHidden()).toBe(true);
    await page.locator('#audit-prev').click();
    await page.locator('#audit-range', { hasText: '1–50 of' }).waitFor();
    const steps = await page.locator('#audit tbody tr td:nth-child(3)').allTextContents();
    expect(steps.slice(0, 2)).toEqual(['job.created', 'job.state']);
    expect(steps).toEqual(expect.arrayContaining(['psi.result', 'he.keys', 'lr.masked_gradient']));

    // Each chart exists, holds the job's points, and has painted a real share of its canvas.
    const charts = await page.evaluate(() =>
      ['chart-epochs', 'chart-roc', 'chart-ks'].map((id) => {
        const canvas = document.getElementById(id) as HTMLCanvasElement;
        const chart = (
          window as unknown as {
            Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { data: unknown[] }[] } } | undefined };
          }
        ).Chart.getChart(canvas);
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return {
          id,
          width: canvas.width,
          points: chart ? chart.data.datasets[0].data.length : -1,
          paintedShare: painted / (canvas.width * canvas.height),
        };
      }),
    );
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    expect(byId['chart-epochs'].points).toBe(4);
    expect(byId['chart-roc'].points).toBe(finished.result.validation.rocCurve.length);
    expect(byId['chart-ks'].points).toBe(finished.result.validation.ksCurve.length);
    for (const c of charts) {
      expect(c.width).toBeGreaterThan(200);
      expect(c.paintedShare).toBeGreaterThan(0.01);
    }

    if (process.env.VFL_DASHBOARD_SCREENSHOT)
      await page.screenshot({ path: process.env.VFL_DASHBOARD_SCREENSHOT, fullPage: true });

    // The key only ever travelled in the Authorization header.
    expect(requests.some((r) => r.url.includes(federation.adminKey))).toBe(false);
    expect(page.url()).not.toContain(federation.adminKey);
    const apiRequests = requests.filter((r) => new URL(r.url).pathname.startsWith('/jobs'));
    expect(apiRequests.length).toBeGreaterThan(3);
    expect(apiRequests.some((r) => new URL(r.url).pathname === `/jobs/${job.id}/events`)).toBe(true);
    // the failed attempt with the wrong key came first; everything after it carries the real one
    expect(
      apiRequests.filter((r) => r.authorization !== `Bearer ${federation.adminKey}`).map((r) => r.authorization),
    ).toEqual(['Bearer vfl_not_a_real_key']);
    expect(pageErrors.filter((e) => !e.includes('401'))).toEqual([]);
  }, 90_000);
});
