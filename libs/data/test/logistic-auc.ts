/** Test helper: plain logistic regression (standardized, batch gradient descent) and ROC AUC. */

/** In-sample AUC of a logistic regression fitted on the given row-major matrix. */
export function fitAndScoreAuc(x: Float64Array, rows: number, cols: number, y: Uint8Array): number {
  const z = standardize(x, rows, cols);
  const w = new Float64Array(cols + 1);
  const grad = new Float64Array(cols + 1);
  const scores = new Float64Array(rows);
  for (let iter = 0; iter < 400; iter++) {
    grad.fill(0);
    for (let i = 0; i < rows; i++) {
      let s = w[cols];
      for (let j = 0; j < cols; j++) s += w[j] * z[i * cols + j];
      const err = 1 / (1 + Math.exp(-s)) - y[i];
      for (let j = 0; j < cols; j++) grad[j] += err * z[i * cols + j];
      grad[cols] += err;
    }
    for (let j = 0; j <= cols; j++) w[j] -= (1.0 * grad[j]) / rows;
  }
  for (let i = 0; i < rows; i++) {
    let s = w[cols];
    for (let j = 0; j < cols; j++) s += w[j] * z[i * cols + j];
    scores[i] = s;
  }
  return auc(scores, y);
}

function standardize(x: Float64Array, rows: number, cols: number): Float64Array {
  const z = new Float64Array(x.length);
  for (let j = 0; j < cols; j++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += x[i * cols + j];
    mean /= rows;
    let variance = 0;
    for (let i = 0; i < rows; i++) variance += (x[i * cols + j] - mean) ** 2;
    const sd = Math.sqrt(variance / rows) || 1;
    for (let i = 0; i < rows; i++) z[i * cols + j] = (x[i * cols + j] - mean) / sd;
  }
  return z;
}

/** Rank-based ROC AUC (ties get half credit). */
export function auc(scores: Float64Array, y: Uint8Array): number {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b]);
  let rankSumPositives = 0;
  let positives = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    const averageRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (y[order[k]] === 1) {
        rankSumPositives += averageRank;
        positives++;
      }
    }
    start = end + 1;
  }
  const negatives = y.length - positives;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}
