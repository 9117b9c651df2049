/* The uplift as a picture: the federated model's ROC curve over the label party's own. */
import { chanceLine, chartFigure, COLORS, draw, line, unitAxes, xy } from '../charts.js';
import { fixed, modelResult } from '../dom.js';
import { registerPanel } from '../registry.js';
import { hasBinaryOutcome } from './outcome.js';

registerPanel({
  id: 'uplift',
  title: 'ROC curve: federated vs label party alone (validation)',
  order: 30,
  // Drawn from a model's outcome only; until there is one, the Outcome panel says why not.
  applies: hasBinaryOutcome,
  render(body, job) {
    const model = modelResult(job);
    const own = model.labelOnly.validation;
    const label = (job.parties.find((p) => p.role === 'label') || {}).partyId || 'label party';
    const summary =
      `Federated validation AUC ${fixed(model.validation.auc)}, ${label} alone ${fixed(own.auc)}, train ${fixed(model.train.auc)}.` +
      (own.rocCurve
        ? ''
        : ` This job's result holds no ROC curve for ${label} alone (jobs before the dashboard's uplift view), only its AUC.`);
    const canvas = chartFigure(body, { id: 'chart-roc', title: 'ROC curve', summary });
    const datasets = [
      line(
        `federated, validation (AUC ${fixed(model.validation.auc, 3)})`,
        xy(model.validation.rocCurve, 'fpr', 'tpr'),
        COLORS.federated,
      ),
    ];
    if (own.rocCurve)
      datasets.push(
        line(`${label} alone, validation (AUC ${fixed(own.auc, 3)})`, xy(own.rocCurve, 'fpr', 'tpr'), COLORS.labelOnly),
      );
    datasets.push(
      line(
        `federated, train (AUC ${fixed(model.train.auc, 3)})`,
        xy(model.train.rocCurve, 'fpr', 'tpr'),
        COLORS.train,
        {
          borderWidth: 1,
          borderDash: [2, 2],
        },
      ),
      chanceLine(),
    );
    draw(canvas, {
      type: 'scatter',
      data: { datasets },
      options: { scales: unitAxes('false positive rate', 'true positive rate') },
    });
  },
});
