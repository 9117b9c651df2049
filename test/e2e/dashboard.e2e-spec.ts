/// <reference lib="dom" />
// (DOM types: the page.evaluate callbacks below run in the browser.)
/**
 * The web dashboard in a real browser, as an analyst and an operator use it: the coordinator and
 * both parties run as processes, headless Chromium opens GET /dashboard. The jobs are real: a
 * split-LR job that succeeds, one that fails (its feature party has no such file), a split-NN job
 * with the Gaussian defence; one more split-LR job is followed live. The auditor view, keyboard,
 * axe-core and layout checks are in dashboard-audit-a11y.e2e-spec.ts.
 * VFL_DASHBOARD_SCREENSHOTS=dir keeps the screenshots (docs/images has two of them).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './support/dashboard-browser';
import {
  closeDashboardSuite,
  DashboardSuite,
  Job,
  openDashboardSuite,
  pageSteps,
  signIn as signInAt,
  splitLr,
} from './support/dashboard-fixture';

const SHOTS = process.env.VFL_DASHBOARD_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-dashboard-shots-'));

// Skipping is for developer machines without a browser only; under CI a missing one is a failure.
const runnable = fs.existsSync(CHROMIUM) || !!process.env.CI;
if (!runnable)
  console.warn(
    `dashboard e2e skipped: ${CHROMIUM} is missing (apt-get install chromium); it always runs under CI=true`,
  );
const describeIfBrowser = runnable ? describe : describe.skip;

describeIfBrowser('web dashboard in headless Chromium', () => {
  let suite: DashboardSuite;
  let page: Page;
  let succeeded: Job;
  let failed: Job;
  let nn: Job;
  let steps: ReturnType<typeof pageSteps>;
  const api = <T>(p: string, init?: RequestInit, key?: string) => suite.fx.api<T>(p, init, key);
  const submit = (body: object) => suite.fx.submit(body);
  const finished = (id: string) => suite.fx.finished(id);
  const signIn = (p: Page, key: string) => signInAt(p, suite.fx.url, key);
  const openJob = (id: string) => steps.openJob(id);
  const text = (selector: string) => steps.text(selector);
  const number = (selector: string) => steps.number(selector);

  beforeAll(async () => {
    suite = await openDashboardSuite(true);
    ({ page } = suite);
    ({ succeeded, failed, nn } = suite.jobs);
    steps = pageSteps(page);
  }, 240_000);
  afterAll(() => closeDashboardSuite(suite));

  it('ran the jobs the tests look at', () => {
    expect([succeeded.state, failed.state, nn.state, suite.jobs.secureboost!.state]).toEqual([
      'succeeded',
      'failed',
      'succeeded',
      'succeeded',
    ]);
  });

  it('serves the page and its modules without a key, under a strict CSP, and no data without one', async () => {
    const res = await fetch(`${suite.fx.url}/dashboard`);
    expect(res.status).toBe(200);
    const policy = res.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).not.toContain('unsafe');
    expect(await res.text()).toContain('/dashboard/js/main.js');
    for (const asset of ['js/main.js', 'js/panels/audit.js', 'dashboard.css', 'vendor/chart.umd.min.js'])
      expect((await fetch(`${suite.fx.url}/dashboard/${asset}`)).status).toBe(200);
    expect((await fetch(`${suite.fx.url}/dashboard/js/nope.js`)).status).toBe(404);
    expect((await fetch(`${suite.fx.url}/jobs`)).status).toBe(401);
  });

  it('hides the app behind the key prompt, refuses a wrong key, and takes the right one', async () => {
    await page.goto(`${suite.fx.url}/dashboard`);
    await page.locator('#key-panel').waitFor({ state: 'visible' });
    expect(await page.locator('#main').isHidden()).toBe(true);
    await page.locator('#api-key').fill('vfl_not_a_real_key');
    await page.locator('#key-form button[type=submit]').click();
    await page.locator('#key-error').waitFor({ state: 'visible' });
    expect(await text('#key-error')).toContain('refused this API key');
    expect(await page.locator('#main').isHidden()).toBe(true);
    await signIn(page, suite.fx.adminKey);
    expect(await page.evaluate(() => sessionStorage.getItem('vfl.apiKey'))).toBe(suite.fx.adminKey);
    expect(await text('#who')).toContain('(admin)');
  });

  // The defect the issue names first: a failed job showed the previous job's lift table and matrix.
  it('shows a failed job opened after a succeeded one with empty states, never the earlier outcome', async () => {
    await openJob(succeeded.id);
    await page.locator('#lift tbody tr').nth(9).waitFor();
    expect(await number('#cm-tp')).toBe(succeeded.result.validation.confusion.tp);
    await openJob(failed.id);
    await page.locator('#job-state', { hasText: 'failed' }).waitFor();
    for (const gone of ['#lift', '#confusion', '#summary', '#chart-roc', '#chart-ks', '#chart-loss', '#cm-tp'])
      expect(await page.locator(gone).count()).toBe(0);
    // Panels drawn from an outcome are hidden, with nothing left inside; the ones shown say why they are empty.
    for (const panel of ['uplift', 'lift', 'confusion', 'ks', 'importance']) {
      expect(await page.locator(`#panel-${panel}`).isHidden()).toBe(true);
      expect(await page.locator(`#panel-${panel} .panel-body`).innerHTML()).toBe('');
    }
    expect(await text('#panel-outcome .empty')).toBe('No outcome: the job failed (see "What went wrong").');
    expect(await text('#panel-training .empty')).toBe('The job ended (failed) before its first epoch finished.');
    // The failure names the party, the step, the reason and the file the request asked for.
    expect(await text('#job-error')).toBe(failed.error);
    expect(await text('#panel-failure dd[data-field="party"]')).toBe('ecommerce');
    expect(await text('#panel-failure dd[data-field="requested data"]')).toBe('ecommerce: no-such-file.csv');
    expect(Number(await page.locator('#progress-bar').getAttribute('value'))).toBeLessThan(1);
    expect(await text('#panel-progress .empty')).toContain('streams no events; its audit trail below holds every step');
    // And back: the succeeded job's outcome, nothing of the failure.
    await openJob(succeeded.id);
    await page.locator('#lift tbody tr').nth(9).waitFor();
    expect(await page.locator('#panel-failure').isHidden()).toBe(true);
    expect(await page.locator('#job-error').count()).toBe(0);
  });

  it('draws the uplift: federated and label-only ROC and gains curves, and the headline', async () => {
    await openJob(succeeded.id);
    const v = succeeded.result.validation;
    const own = succeeded.result.labelOnly.validation;
    expect(own.rocCurve!.length).toBeGreaterThan(10);
    expect(own.gainLift).toHaveLength(10);
    // The released curve is the model's: its area (trapezoids over percentile cuts) is its AUC, to within the cuts' coarseness.
    const points = own.rocCurve as { fpr: number; tpr: number }[];
    const area = points
      .slice(1)
      .reduce((sum, p, i) => sum + ((p.fpr - points[i].fpr) * (p.tpr + points[i].tpr)) / 2, 0);
    expect(Math.abs(area - own.auc)).toBeLessThan(0.02);
    await page.locator('#uplift-headline').waitFor();
    expect(await text('#uplift-headline')).toBe(
      `Federation lifts validation AUC from ${own.auc.toFixed(3)} (bank alone) to ${v.auc.toFixed(3)} (+${(v.auc - own.auc).toFixed(3)}).`,
    );
    const charts = await page.evaluate(() =>
      ['chart-roc', 'chart-gain', 'chart-ks', 'chart-loss', 'chart-auc'].map((id) => {
        const canvas = document.getElementById(id) as HTMLCanvasElement;
        type ChartLike = { data: { datasets: { label: string; data: unknown[] }[] } };
        const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): ChartLike } }).Chart.getChart(
          canvas,
        );
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return {
          id,
          label: canvas.getAttribute('aria-label') ?? '',
          sets: chart.data.datasets.map((d) => ({ label: d.label, points: d.data.length })),
          paintedShare: painted / (canvas.width * canvas.height),
        };
      }),
    );
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    expect(byId['chart-roc'].sets[0].points).toBe(v.rocCurve.length);
    expect(byId['chart-roc'].sets[1]).toEqual({
      label: `bank alone, validation (AUC ${own.auc.toFixed(3)})`,
      points: own.rocCurve!.length,
    });
    expect(byId['chart-gain'].sets.map((s) => s.points)).toEqual([11, 11, 2]);
    expect(byId['chart-ks'].sets[0].points).toBe(v.ksCurve.length);
    expect(byId['chart-loss'].sets[0].points).toBe(4);
    expect(byId['chart-auc'].sets[0].points).toBe(4);
    for (const c of charts) {
      expect(c.paintedShare).toBeGreaterThan(0.01);
      expect(c.label).toMatch(/\d\.\d\d/); // the text alternative carries the numbers
    }
    expect(await text('#lift tbody tr:first-child td:nth-child(7)')).toBe(v.gainLift[0].lift.toFixed(2));
    await page.evaluate(() => document.getElementById('panel-outcome')!.scrollIntoView());
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-job.png') });
  });

  it('moves the confusion matrix with the threshold control, from the keyboard', async () => {
    await openJob(succeeded.id);
    const v = succeeded.result.validation;
    const cells = async () => Promise.all(['tp', 'fn', 'fp', 'tn'].map((k) => number(`#cm-${k}`)));
    expect(await cells()).toEqual([v.confusion.tp, v.confusion.fn, v.confusion.fp, v.confusion.tn]);
    await page.locator('#threshold').focus();
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    const [tp, fn, fp, tn] = await cells();
    expect(tp + fn).toBe(v.positives); // every default is counted once, at any cut
    expect(tp + fn + fp + tn).toBe(v.rows);
    expect(tp + fp).toBeGreaterThan(v.confusion.tp + v.confusion.fp); // flagging more catches more
    expect(await text('#confusion-threshold')).toMatch(/^Flagging the top \d+\.\d% of scores$/);
    await page.locator('#threshold-reset').click();
    expect(await cells()).toEqual([v.confusion.tp, v.confusion.fn, v.confusion.fp, v.confusion.tn]);
  });

  it('shows a split-NN run: loss with the training curve, AUC on its own axis, best epoch, defence and ε', async () => {
    await openJob(nn.id);
    await page.locator('#chart-loss').waitFor();
    expect(nn.epochs.every((e) => typeof e.trainLoss === 'number' && e.trainLoss > 0)).toBe(true);
    const sets = await page.evaluate(() => {
      type ChartLike = {
        data: { datasets: { label: string }[] };
        options: { scales: { y: { min?: number; max?: number } } };
      };
      const get = (id: string) =>
        (window as unknown as { Chart: { getChart(c: Element): ChartLike } }).Chart.getChart(
          document.getElementById(id)!,
        );
      return {
        loss: get('chart-loss').data.datasets.map((d) => d.label),
        aucRange: [get('chart-auc').options.scales.y.min, get('chart-auc').options.scales.y.max],
      };
    });
    expect(sets.loss).toEqual(expect.arrayContaining(['validation log loss', 'training loss (mean over batches)']));
    expect(sets.aucRange).toEqual([0.5, 1]);
    expect(await text('#panel-training dd[data-field="defence"]')).toBe('gaussian');
    expect(await text('#panel-training dd[data-field="noiseMultiplier"]')).toBe('1');
    expect(await text('#panel-training dd[data-field="privacy budget ε (δ = 1e-5)"]')).toBe(
      nn.result.epsilon!.toFixed(2),
    );
    expect(await text('#panel-training dd[data-field="early stopping"]')).toContain(
      `kept epoch ${nn.result.earlyStopping!.bestEpoch}`,
    );
  });

  it('keeps the SecureBoost importance card, and charts its run by tree', async () => {
    const sb = suite.jobs.secureboost!;
    await openJob(sb.id);
    await page.locator('#importance tbody tr').first().waitFor();
    const features = sb.result.importance!;
    expect(await page.locator('#importance tbody tr').count()).toBe(Math.min(20, features.length));
    const total = features.reduce((sum, f) => sum + f.gain, 0);
    expect(await text('#importance tbody tr:first-child td:first-child')).toBe(features[0].partyId);
    expect(await text('#importance tbody tr:first-child td:nth-child(5)')).toBe(
      `${((100 * features[0].gain) / total).toFixed(1)}%`,
    );
    expect(await page.locator('#chart-auc').getAttribute('aria-label')).toContain('after tree 1');
    // Its baseline carries no curve: the ROC panel says so and still draws the federated one.
    expect(await text('#panel-uplift figcaption')).toContain('holds no ROC curve for bank alone');
  });

  it('lists jobs with duration, AUC and submitter, filters and pages them, and compares two runs', async () => {
    // Eight more jobs (each fails at once: no such file) make a second page of ten.
    const extra = await Promise.all(Array.from({ length: 8 }, () => submit(splitLr('missing.csv'))));
    await Promise.all(extra.map((j) => finished(j.id)));
    // The bare list and the list with outcomes are kept apart in the coordinator's page cache.
    type Summary = { id: string; validationAuc?: number | null; submittedBy?: string };
    const bare = await api<Summary[]>('/jobs?limit=50');
    const withOutcome = await api<Summary[]>('/jobs?limit=50&include=outcome');
    expect(bare.find((j) => j.id === succeeded.id)).not.toHaveProperty('validationAuc');
    expect(withOutcome.find((j) => j.id === succeeded.id)).toMatchObject({
      validationAuc: succeeded.result.validation.auc,
      submittedBy: 'bootstrap-admin',
    });
    expect((await api<Summary[]>('/jobs?limit=50')).find((j) => j.id === succeeded.id)).not.toHaveProperty(
      'validationAuc',
    );
    await page.evaluate(() => (location.hash = ''));
    const row = (id: string) => page.locator(`#jobs tr[data-job-id="${id}"]`);
    await row(succeeded.id).waitFor();
    await page.locator('#page-size').selectOption('10');
    await row(succeeded.id).waitFor({ state: 'detached' });
    expect(await page.locator('#jobs tbody tr').count()).toBe(10);
    expect(await page.locator('#jobs-newer').isDisabled()).toBe(true);
    await page.locator('#jobs-older').click();
    await row(succeeded.id).waitFor();
    expect(await page.locator('#jobs tbody tr').count()).toBe(2); // the two oldest of twelve
    expect(await page.locator('#jobs-older').isDisabled()).toBe(true);
    await page.locator('#jobs-newer').click();
    await row(extra[0].id).waitFor();
    await page.locator('#page-size').selectOption('25');
    await row(succeeded.id).waitFor();
    const cells = await row(succeeded.id).locator('td').allTextContents();
    expect(cells.slice(2)).toEqual([
      'split-lr',
      'succeeded',
      expect.stringMatching(/^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
      expect.stringMatching(/^\d+\.\d s$/),
      succeeded.result.validation.auc.toFixed(4),
      'bootstrap-admin',
    ]);
    await page.locator('#filter-state').selectOption('failed');
    await page.locator(`#jobs tr[data-state="failed"]`).first().waitFor();
    await row(succeeded.id).waitFor({ state: 'detached' });
    expect(
      new Set(await page.locator('#jobs tbody tr').evaluateAll((r) => r.map((t) => (t as HTMLElement).dataset.state))),
    ).toEqual(new Set(['failed']));
    await page.locator('#filter-state').selectOption('');
    await page.locator('#filter-model').selectOption('split-nn');
    await row(succeeded.id).waitFor({ state: 'detached' });
    expect(await page.locator('#jobs tbody tr').count()).toBe(1);
    await page.locator('#filter-model').selectOption('');
    await page.locator('#filter-text').fill(failed.id.slice(0, 6));
    await row(succeeded.id).waitFor({ state: 'detached' });
    expect(await page.locator('#jobs tbody tr').count()).toBe(1);
    await page.locator('#filter-text').fill('');
    await row(nn.id).waitFor();
    await row(succeeded.id).locator('input[type=checkbox]').check();
    await row(nn.id).locator('input[type=checkbox]').check();
    await page.locator('#compare-jobs').click();
    await page.locator('#compare tbody tr').first().waitFor();
    const auc = page.locator('#compare tbody tr', { hasText: 'validation AUC' }).first().locator('td');
    expect(await auc.allTextContents()).toEqual([
      succeeded.result.validation.auc.toFixed(4),
      nn.result.validation.auc.toFixed(4),
      expect.stringMatching(/^[+−]\d\.\d{4}$/),
    ]);
    await page.locator('#chart-compare-roc').waitFor();
  });

  it('offers retry or resume to operators and nothing to auditors', async () => {
    const auditor = await api<{ key: string }>('/api-keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'audit-team', role: 'auditor' }),
    });
    const auditorKey = auditor.key;
    const other = await suite.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(other, auditorKey);
    expect(await other.locator('#who').textContent()).toBe('audit-team (auditor)');
    await other.evaluate((h) => (location.hash = h), `job/${failed.id}`);
    await other.locator('#job-id', { hasText: failed.id }).waitFor();
    expect(await other.locator('.job-header button').count()).toBe(0);
    expect(await other.locator('.job-header').textContent()).toContain('can read jobs, not run them');
    await other.close();

    await openJob(failed.id);
    expect(await page.locator('#job-cancel').count()).toBe(0);
    expect(await page.locator('#job-resume').count()).toBe(0); // it failed before any checkpoint
    await page.locator('#job-retry').click();
    await page.waitForFunction(
      (old) => /^#job\/[0-9a-f-]{36}$/.test(location.hash) && !location.hash.includes(old),
      failed.id,
    );
    const retried = page.url().split('#job/')[1];
    await page.locator('#job-id', { hasText: retried }).waitFor();
    const created = await api<{ events: { step: string; detail: { retryOf?: string } }[] }>(
      `/jobs/${retried}/audit?limit=1`,
    );
    expect(created.events[0]).toMatchObject({ step: 'job.created', detail: { retryOf: failed.id } });
    await page.locator('#job-state', { hasText: 'failed' }).waitFor({ timeout: 30_000 });
    await page.locator('#announcer', { hasText: 'ended: failed' }).waitFor();
  });

  it('follows a running job live over the event stream, with the key only in the Authorization header', async () => {
    const job = await submit(splitLr());
    await openJob(job.id);
    expect((await finished(job.id)).state).toBe('succeeded');
    await page.locator('#job-state', { hasText: 'succeeded' }).waitFor({ timeout: 10_000 });
    const live = await page
      .locator('#live-events li')
      .evaluateAll((items) =>
        items.map((li) => ({ type: (li as HTMLElement).dataset.type, state: (li as HTMLElement).dataset.state })),
      );
    expect(live.filter((e) => e.type === 'state').map((e) => e.state)).toEqual(
      expect.arrayContaining(['training', 'evaluating', 'succeeded']),
    );
    expect(live.filter((e) => e.type === 'epoch')).toHaveLength(4);
    await page.locator('#announcer', { hasText: 'ended: succeeded' }).waitFor();
    await page.locator('#lift tbody tr').nth(9).waitFor();
    expect(Number(await page.locator('#progress-bar').getAttribute('value'))).toBe(1);

    expect(suite.requests.some((r) => r.url.includes(suite.fx.adminKey))).toBe(false);
    expect(page.url()).not.toContain(suite.fx.adminKey);
    const apiRequests = suite.requests.filter((r) => /^\/(jobs|audit|api-keys)/.test(new URL(r.url).pathname));
    expect(apiRequests.some((r) => new URL(r.url).pathname === `/jobs/${job.id}/events`)).toBe(true);
    expect(
      apiRequests.filter((r) => r.authorization !== `Bearer ${suite.fx.adminKey}`).map((r) => r.authorization),
    ).toEqual(['Bearer vfl_not_a_real_key']);
    expect(suite.pageErrors.filter((e) => !e.includes('401'))).toEqual([]);
  }, 90_000);

  it('cancels a running job from its page, which can then be retried', async () => {
    const job = await submit(splitLr());
    await openJob(job.id);
    await page.locator('#job-cancel').click();
    // A job still queued (or at its data check) is cancelled at once, and the state change may be
    // announced before the request's own answer is: either announcement will do.
    await page.locator('#announcer', { hasText: /Cancellation requested\.|cancelled/ }).waitFor();
    expect((await finished(job.id)).state).toBe('cancelled');
    await page.locator('#job-state', { hasText: 'cancelled' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#job-cancel').count()).toBe(0);
    expect(await page.locator('#job-retry').count()).toBe(1);
    expect(await text('#panel-failure')).toContain('The job was cancelled');
  }, 60_000);
});
