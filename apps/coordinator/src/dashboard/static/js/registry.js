/*
 * The panel registry: the job view is the registered panels, in order. A panel is
 *
 *   { id, title, order, wide?, applies?(job), render(body, job, ctx) }
 *
 * and lives in its own module under panels/ that calls registerPanel() when main.js imports it.
 * A model that brings its own views (SecureBoost importance, WOE/IV tables, pipeline steps) adds a
 * module and one import line in main.js; nothing else changes.
 *
 * Every render starts from an empty card: the registry destroys the card's charts and removes its
 * content before calling render(), and hides the card when the panel does not apply to the job.
 * So a panel can never show another job's data, and one that has nothing to show must say so
 * (dom.js emptyState). An async render checks ctx.alive() before writing: false once the card
 * has been rendered again (another job opened, or a newer state of this one).
 */
import { destroyCharts } from './charts.js';
import { emptyState, h } from './dom.js';

const panels = [];

export function registerPanel(panel) {
  if (panels.some((p) => p.id === panel.id)) throw new Error(`panel ${panel.id} is registered twice`);
  panels.push(panel);
  panels.sort((a, b) => a.order - b.order);
}

/** One card per registered panel, in order, appended to `host`; returns them by panel id. */
export function mountPanels(host) {
  const cards = new Map();
  host.replaceChildren(
    ...panels.map((panel) => {
      const title = h('h3', { id: `panel-${panel.id}-title`, text: panel.title });
      const body = h('div', { class: 'panel-body' });
      const card = h(
        'section',
        {
          class: `card panel${panel.wide ? ' wide' : ''}`,
          id: `panel-${panel.id}`,
          hidden: true, // until its first render: a card never shows without content or a sentence
          'aria-labelledby': title.id,
          dataset: { panel: panel.id },
        },
        title,
        body,
      );
      cards.set(panel.id, { panel, card, body, renders: 0 });
      return card;
    }),
  );
  return cards;
}

/** Renders every panel (or those in `only`) from scratch for `job`. */
export function renderPanels(cards, job, ctx, only) {
  for (const slot of cards.values()) {
    const { panel, card, body } = slot;
    if (only && !only.includes(panel.id)) continue;
    const token = ++slot.renders;
    destroyCharts(body);
    body.replaceChildren();
    const applies = !panel.applies || panel.applies(job);
    card.hidden = !applies;
    if (!applies) continue;
    const alive = () => slot.renders === token;
    const failed = (e) => {
      if (!alive()) return;
      destroyCharts(body);
      body.replaceChildren(emptyState(`This panel could not be drawn: ${e && e.message ? e.message : e}`));
    };
    try {
      const pending = panel.render(body, job, { ...ctx, alive });
      if (pending && typeof pending.catch === 'function') pending.catch(failed);
    } catch (e) {
      failed(e);
    }
  }
}
