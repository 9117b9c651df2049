/// <reference lib="dom" />
/**
 * Headless Chromium (Debian's, driven by playwright-core) for the dashboard's tests: launch, an
 * axe-core scan (its source evaluated in the page: the page's CSP allows no injected <script>),
 * and a layout check that nothing is wider than the viewport.
 */
import * as fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
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

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's WCAG 2.x A/AA rules over the page as it is: the serious and critical violations, and
 * how many rules passed (so a scan that checked nothing cannot pass unnoticed).
 */
export async function seriousAxeViolations(page: Page): Promise<{ violations: AxeViolation[]; passedRules: number }> {
  await page.evaluate(AXE_SOURCE);
  const scan = await page.evaluate(async () => {
    type Result = { violations: AxeViolation[]; passes: unknown[] };
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<Result> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } });
    const violations = result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
    return { violations, passedRules: result.passes.length };
  });
  return {
    violations: scan.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    passedRules: scan.passedRules,
  };
}

export interface Overflow {
  /** The page's own horizontal scroll: scrollWidth - clientWidth of the document (0 when it fits). */
  page: number;
  /** Visible elements whose right edge passes the viewport's, by a short selector. */
  pastViewport: string[];
  /** Cards wider inside than their box (their content is cut or scrolls). */
  cards: string[];
  /** Table regions that scroll sideways (allowed on a phone, not at desktop widths). */
  scrollingTables: string[];
}

export function measureOverflow(page: Page): Promise<Overflow> {
  return page.evaluate(() => {
    const name = (el: Element) =>
      el.id
        ? `#${el.id}`
        : `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ')[0]}` : ''}`;
    const width = document.documentElement.clientWidth;
    const visible = (el: Element) => (el as HTMLElement).offsetParent !== null || el.tagName === 'BODY';
    const pastViewport: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      if (!visible(el) || el.closest('.table-scroll')) continue;
      if (el.getBoundingClientRect().right > width + 1) pastViewport.push(name(el));
    }
    // An overflowing box, named with the first of its descendants that reaches past its right edge.
    const culprit = (box: Element) => {
      const right = box.getBoundingClientRect().right;
      const past = Array.from(box.querySelectorAll('*')).find(
        (el) => visible(el) && !el.closest('.table-scroll') && el.getBoundingClientRect().right > right + 1,
      );
      return past ? ` (${name(past)})` : '';
    };
    const wider = (sel: string) =>
      Array.from(document.querySelectorAll(sel))
        .filter((el) => visible(el) && el.scrollWidth > el.clientWidth + 1)
        .map((el) => {
          const table = el.querySelector('table');
          return `${name(el.closest('.card') ?? el)}${table ? ` #${table.id}` : ''}${culprit(el)}`;
        });
    return {
      page: document.documentElement.scrollWidth - width,
      pastViewport: pastViewport.slice(0, 10),
      cards: wider('.card'),
      scrollingTables: wider('.table-scroll'),
    };
  });
}
