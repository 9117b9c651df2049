/// <reference lib="dom" />
// (DOM types: the page.evaluate callbacks below run in the browser.)
/**
 * The dashboard for an auditor, from the keyboard, to axe-core, and on a phone and a laptop: the
 * same real federation and jobs as dashboard.e2e-spec.ts (a split-LR job that succeeded, one that
 * failed, a split NN). The layout test saves a screenshot of every view at 390 × 844 and
 * 1280 × 800 and measures that nothing is wider than the screen.
 * VFL_DASHBOARD_SCREENSHOTS=dir keeps the screenshots (docs/images has two of them).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM, measureOverflow, seriousAxeViolations } from './support/dashboard-browser';
import {
  closeDashboardSuite,
  DashboardSuite,
  Job,
  openDashboardSuite,
  pageSteps,
  signIn as signInAt,
} from './support/dashboard-fixture';

const SHOTS = process.env.VFL_DASHBOARD_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-dashboard-shots-'));

// Skipping is for developer machines without a browser only; under CI a missing one is a failure.
const runnable = fs.existsSync(CHROMIUM) || !!process.env.CI;
const describeIfBrowser = runnable ? describe : describe.skip;

describeIfBrowser('web dashboard for auditors, keyboards, screen readers and phones', () => {
  let suite: DashboardSuite;
  let page: Page;
  let succeeded: Job;
  let failed: Job;
  let nn: Job;
  let steps: ReturnType<typeof pageSteps>;
  const api = <T>(p: string) => suite.fx.api<T>(p);
  const signIn = (p: Page, key: string) => signInAt(p, suite.fx.url, key);
  const openJob = (id: string) => steps.openJob(id);
  const text = (selector: string) => steps.text(selector);

  beforeAll(async () => {
    suite = await openDashboardSuite();
    ({ page } = suite);
    ({ succeeded, failed, nn } = suite.jobs);
    steps = pageSteps(page);
    await signIn(page, suite.fx.adminKey);
  }, 240_000);
  afterAll(() => closeDashboardSuite(suite));

  it('gives the auditor the verification, signed heads with full keys, full digests, filters and exports', async () => {
    await openJob(succeeded.id);
    const trail = await api<{
      verification: { valid: boolean; events: number; checkpoints: number; keys: { publicKey: string }[] };
    }>(`/jobs/${succeeded.id}/audit?limit=1`);
    const heads = await api<{ seq: number; headHash: string; publicKey: string }[]>(
      `/jobs/${succeeded.id}/audit/checkpoints`,
    );
    expect(trail.verification.valid).toBe(true);
    expect(heads.length).toBeGreaterThan(3);
    expect(heads.length).toBe(trail.verification.checkpoints);
    await page
      .locator('#audit-verification', {
        hasText: `chain valid, ${trail.verification.events.toLocaleString('en')} events`,
      })
      .waitFor();
    const key = trail.verification.keys[0].publicKey;
    expect(await text('#audit-keys tbody tr:first-child td:first-child')).toBe(key);
    expect(await page.locator('#audit-heads tbody tr').count()).toBe(heads.length);
    expect(await text('#audit-heads tbody tr:first-child td:nth-child(3)')).toBe(heads[0].headHash);
    expect(await text('#audit-heads tbody tr:first-child td:nth-child(5)')).toBe(key);
    // Full digests and hashes (64 hex digits), times with the year and the zone.
    const first = page.locator('#audit tbody tr').first();
    expect(await first.locator('td').nth(6).locator('code').first().textContent()).toMatch(/^[0-9a-f]{64}$/);
    expect(await first.locator('td').nth(1).textContent()).toMatch(/^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const digests = await page.locator('#audit tbody td:nth-child(6) code').allTextContents();
    expect(digests.length).toBeGreaterThan(0);
    for (const d of digests) expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.locator('#audit tbody tr').count()).toBe(50);
    await page.locator('#audit-next').click();
    await page.locator('#audit-range', { hasText: '51–' }).waitFor();
    expect(await page.locator('#audit tbody tr').first().getAttribute('data-seq')).toBe('50');
    // A detail expands in place.
    await page.locator('#audit tbody tr td:nth-child(8) details summary').first().click();
    expect(await page.locator('#audit tbody tr details[open] pre').first().textContent()).toMatch(/^\{/);
    // Filter by step; the CSV export holds exactly what the filter selects.
    await page.locator('#audit-filters input[name=step]').fill('lr.masked_gradient');
    await page.locator('#audit-filters button[type=submit]').click();
    await page.locator('#audit-range', { hasText: 'of the matching events' }).waitFor();
    const steps = await page.locator('#audit tbody td:nth-child(3)').allTextContents();
    expect(new Set(steps)).toEqual(new Set(['lr.masked_gradient']));
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#audit-export-csv').click()]);
    const lines = fs
      .readFileSync(await csv.path(), 'utf8')
      .trim()
      .split('\n');
    expect(lines[0]).toBe('jobId,seq,occurredAt,step,sender,receiver,messageDigest,byteSize,detail,prevHash,hash');
    expect(lines.slice(1).every((l) => l.split(',')[3] === 'lr.masked_gradient')).toBe(true);
    expect(lines.length - 1).toBe(steps.length); // one page holds them all (4 epochs × 3 batches × 2 parties)
    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.locator('#audit-export-jsonl').click()]);
    expect(
      fs
        .readFileSync(await jsonl.path(), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(lines.length - 1);
    const [report] = await Promise.all([page.waitForEvent('download'), page.locator('#audit-report').click()]);
    const body = JSON.parse(fs.readFileSync(await report.path(), 'utf8')) as {
      jobId: string;
      audit: { valid: boolean };
    };
    expect(body).toMatchObject({ jobId: succeeded.id, audit: { valid: true } });
    // Per party: rows, columns and the SHA-256 of the file each one read.
    for (const [party, d] of Object.entries(succeeded.result.datasets)) {
      const cells = await page.locator(`#by-party tr[data-party="${party}"] td`).allTextContents();
      expect([cells[2], cells[3], cells[6]]).toEqual([d.rows.toLocaleString('en'), String(d.columns), d.contentSha256]);
    }
    await page.setViewportSize({ width: 1280, height: 1150 }); // tall enough for the first events
    await page.evaluate(() => document.getElementById('panel-audit')!.scrollIntoView());
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-auditor.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('says so when the fragment names a job that does not exist, and shows no panel', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await page.evaluate((h) => (location.hash = h), `job/${missing}`);
    await page.locator('#job-title', { hasText: 'Job not available' }).waitFor();
    expect(await text('#job-view .empty')).toBe(
      `Job ${missing} could not be opened: 404: job ${missing} does not exist`,
    );
    expect(await page.locator('#job-view .panel:visible').count()).toBe(0);
  });

  it('opens a job with the keyboard alone', async () => {
    const kb = await suite.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await kb.goto(`${suite.fx.url}/dashboard`);
    await kb.locator('#api-key').waitFor({ state: 'visible' });
    expect(await kb.evaluate(() => document.activeElement?.id)).toBe('api-key'); // focused for typing at once
    await kb.keyboard.type(suite.fx.adminKey);
    await kb.keyboard.press('Enter');
    await kb.locator(`#jobs tr[data-job-id="${succeeded.id}"]`).waitFor();
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await kb.keyboard.press('Tab');
      reached = await kb.evaluate(
        (id) => document.activeElement?.closest('tr')?.dataset.jobId === id && document.activeElement.tagName === 'A',
        succeeded.id,
      );
    }
    expect(reached).toBe(true);
    await kb.keyboard.press('Enter');
    await kb.locator('#job-id', { hasText: succeeded.id }).waitFor();
    expect(await kb.evaluate(() => document.activeElement?.id)).toBe('job-title'); // focus moved to what opened
    await kb.locator('#announcer', { hasText: `Job ${succeeded.id.slice(0, 8)} opened: succeeded.` }).waitFor();
    await kb.close();
  });

  it('passes an axe-core scan with no serious or critical violation in every view', async () => {
    const views = ['', `job/${succeeded.id}`, `job/${failed.id}`, `job/${nn.id}`, `compare/${succeeded.id},${nn.id}`];
    for (const hash of views) {
      await page.evaluate((h) => (location.hash = h), hash);
      await page
        .locator(hash ? (hash.startsWith('job') ? '#audit-verification' : '#compare') : '#jobs')
        .first()
        .waitFor();
      const { violations, passedRules } = await seriousAxeViolations(page);
      expect({ view: hash || 'list', violations }).toEqual({ view: hash || 'list', violations: [] });
      expect(passedRules).toBeGreaterThan(15);
    }
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(`${suite.fx.url}/dashboard`);
    await page.locator('#key-panel').waitFor({ state: 'visible' });
    expect((await seriousAxeViolations(page)).violations).toEqual([]); // the key prompt
    await signIn(page, suite.fx.adminKey);
  });

  it.each([
    ['phone', 390, 844],
    ['laptop', 1280, 800],
  ])(
    'fits a %s screen (%i × %i): no page overflow, no clipped card, desktop tables unscrolled',
    async (name, width, height) => {
      const p = await suite.browser.newPage({ viewport: { width, height } });
      await signIn(p, suite.fx.adminKey);
      const views: [string, string, string][] = [
        ['list', '', '#jobs'],
        ['job', `job/${succeeded.id}`, '#audit-verification'],
        ['failed', `job/${failed.id}`, '#audit-verification'],
        ['nn', `job/${nn.id}`, '#audit-verification'],
      ];
      for (const [view, hash, ready] of views) {
        await p.evaluate((h) => (location.hash = h), hash);
        await p.locator(ready).first().waitFor();
        await p.screenshot({ path: path.join(SHOTS, `dashboard-${view}-${width}.png`), fullPage: true });
        const overflow = await measureOverflow(p);
        expect({ view, ...overflow, scrollingTables: width >= 1280 ? overflow.scrollingTables : [] }).toEqual({
          view,
          page: 0,
          pastViewport: [],
          cards: [],
          scrollingTables: [],
        });
      }
      await p.close();
    },
  );
});
