/*
 * The run by epoch (by tree for SecureBoost): loss and AUC on separate charts, each on a fixed,
 * honest scale (AUC 0.5 to 1, loss from 0), the training curve where the model reports one
 * (split NN's mean batch loss), the best epoch early stopping kept, and for split NN the defence
 * settings and the privacy budget ε they cost. A regression model's run: mean squared error and
 * validation R² (0 to 1; the label party's own R² beside it).
 */
import { chartFigure, COLORS, draw, line } from '../charts.js';
import { emptyState, facts, fixed, h, modelResult } from '../dom.js';
import { registerPanel } from '../registry.js';
import { isModelJob } from './outcome.js';

function marker(label, x, yMin, yMax) {
  return line(
    label,
    [
      { x, y: yMin },
      { x, y: yMax },
    ],
    COLORS.marker,
    { borderDash: [5, 4], borderWidth: 1 },
  );
}

const axes = (unit, yTitle, y) => ({
  x: { type: 'linear', ticks: { precision: 0 }, title: { display: true, text: unit } },
  y: { ...y, title: { display: true, text: yTitle } },
});

/** Defence settings in words: what each one does to the gradients the feature parties get back. */
function defenceFacts(result) {
  const d = result.defence || { kind: 'none' };
  const pairs = [['defence', d.kind]];
  for (const [k, v] of Object.entries(d))
    if (k !== 'kind') pairs.push([k, typeof v === 'number' ? String(v) : JSON.stringify(v)]);
  pairs.push([
    'privacy budget ε (δ = 1e-5)',
    result.epsilon === null || result.epsilon === undefined ? 'none: no label-DP noise' : fixed(result.epsilon, 2),
  ]);
  return pairs;
}

registerPanel({
  id: 'training',
  title: 'Training by epoch',
  order: 50,
  wide: true,
  applies: isModelJob,
  render(body, job) {
    const unit = job.model === 'secureboost' ? 'tree' : 'epoch';
    const epochs = [...(job.epochs || [])].sort((a, b) => a.epoch - b.epoch);
    const model = modelResult(job);
    const stopping = model && model.earlyStopping;
    const notes = [];
    if (stopping)
      notes.push([
        'early stopping',
        `kept ${unit} ${stopping.bestEpoch} (best validation ${stopping.metric === 'loss' ? 'loss' : 'AUC'}); ` +
          (stopping.stoppedEarly
            ? `stopped after ${unit} ${stopping.stoppedAtEpoch} (${stopping.reason || 'patience'})`
            : 'ran every epoch'),
      ]);
    if (model && model.model === 'split-nn') notes.push(...defenceFacts(model));
    if (notes.length) body.append(facts(notes, 'facts training-facts'));
    if (!epochs.length) {
      body.append(
        emptyState(
          job.state === 'failed' || job.state === 'cancelled'
            ? `The job ended (${job.state}) before its first ${unit} finished.`
            : `No ${unit} has finished yet.`,
        ),
      );
      return;
    }
    const last = epochs[epochs.length - 1];
    const best = stopping ? stopping.bestEpoch : null;
    const grid = h('div', { class: 'chart-pair' });
    body.append(grid);

    // A regression model's epochs carry R² and RMSE where a classifier's carry AUC.
    const regression = epochs.some((e) => typeof e.validationR2 === 'number');
    const lossName = regression ? 'mean squared error' : 'log loss';
    const hasTrain = epochs.some((e) => typeof e.trainLoss === 'number');
    const losses = epochs.flatMap((e) => [e.validationLoss].concat(hasTrain ? [e.trainLoss] : []));
    const lossCanvas = chartFigure(grid, {
      id: 'chart-loss',
      title: `${regression ? 'Mean squared error' : 'Log loss'} by ${unit}`,
      summary:
        `Validation ${lossName} ${fixed(epochs[0].validationLoss)} after ${unit} 1, ${fixed(last.validationLoss)} after ${unit} ${last.epoch}` +
        (hasTrain
          ? `; training loss ${fixed(last.trainLoss)} in ${unit} ${last.epoch}.`
          : '. This model reports no per-epoch training loss.'),
    });
    const lossSets = [
      line(
        `validation ${lossName}`,
        epochs.map((e) => ({ x: e.epoch, y: e.validationLoss })),
        COLORS.loss,
        { pointRadius: 3 },
      ),
    ];
    if (hasTrain)
      lossSets.push(
        line(
          'training loss (mean over batches)',
          epochs.map((e) => ({ x: e.epoch, y: e.trainLoss })),
          COLORS.train,
          { pointRadius: 3 },
        ),
      );
    if (best) lossSets.push(marker(`kept ${unit} ${best}`, best, 0, Math.max(...losses)));
    draw(lossCanvas, {
      type: 'scatter',
      data: { datasets: lossSets },
      options: { scales: axes(unit, lossName, { beginAtZero: true }) },
    });
    if (regression) {
      drawScore(grid, epochs, model, unit, best, {
        id: 'chart-r2',
        name: 'R²',
        field: 'validationR2',
        alone: model && model.labelOnly.validation.r2,
        y: { suggestedMin: 0, max: 1 },
        markerFrom: 0,
      });
      return;
    }

    const aucCanvas = chartFigure(grid, {
      id: 'chart-auc',
      title: 'Validation AUC by ' + unit,
      summary:
        `Validation AUC ${fixed(epochs[0].validationAuc)} after ${unit} 1, ${fixed(last.validationAuc)} after ${unit} ${last.epoch}` +
        (model ? `; the label party alone reaches ${fixed(model.labelOnly.validation.auc)}.` : '.'),
    });
    const aucSets = [
      line(
        'validation AUC',
        epochs.map((e) => ({ x: e.epoch, y: e.validationAuc })),
        COLORS.validation,
        { pointRadius: 3 },
      ),
    ];
    if (model) {
      const first = epochs[0].epoch;
      aucSets.push(
        line(
          'label party alone',
          [first, last.epoch].map((x) => ({ x, y: model.labelOnly.validation.auc })),
          COLORS.labelOnly,
          {
            borderDash: [6, 3],
          },
        ),
      );
    }
    if (best) aucSets.push(marker(`kept ${unit} ${best}`, best, 0.5, 1));
    draw(aucCanvas, {
      type: 'scatter',
      data: { datasets: aucSets },
      options: { scales: axes(unit, 'AUC', { min: 0.5, max: 1 }) },
    });
  },
});

/** A regression model's validation R² by epoch (or tree), with the label party's own R² beside it. */
function drawScore(grid, epochs, model, unit, best, o) {
  const last = epochs[epochs.length - 1];
  const canvas = chartFigure(grid, {
    id: o.id,
    title: `Validation ${o.name} by ${unit}`,
    summary:
      `Validation ${o.name} ${fixed(epochs[0][o.field])} after ${unit} 1, ${fixed(last[o.field])} after ${unit} ${last.epoch}` +
      (typeof o.alone === 'number' ? `; the label party alone reaches ${fixed(o.alone)}.` : '.'),
  });
  const sets = [
    line(
      `validation ${o.name}`,
      epochs.map((e) => ({ x: e.epoch, y: e[o.field] })),
      COLORS.validation,
      { pointRadius: 3 },
    ),
  ];
  if (typeof o.alone === 'number')
    sets.push(
      line(
        'label party alone',
        [epochs[0].epoch, last.epoch].map((x) => ({ x, y: o.alone })),
        COLORS.labelOnly,
        { borderDash: [6, 3] },
      ),
    );
  if (best) sets.push(marker(`kept ${unit} ${best}`, best, o.markerFrom, 1));
  draw(canvas, { type: 'scatter', data: { datasets: sets }, options: { scales: axes(unit, o.name, o.y) } });
}
