/** Submits a job to the coordinator's REST API and follows it to the end, printing each epoch. */
import type { JobView } from '../apps/coordinator/src/jobs/jobs.service';

export interface JobOutcome {
  readonly job: JobView;
  readonly audit: { records: number; valid: boolean; signedHeads: number; firstBroken: unknown };
}

export async function runJob(
  baseUrl: string,
  apiKey: string,
  body: unknown,
  say: (line: string) => void,
  pollMs = 250,
): Promise<JobOutcome> {
  const headers = { authorization: `Bearer ${apiKey}` };
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${baseUrl}${path}`, { headers });
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const created = await fetch(`${baseUrl}/jobs`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const createdBody = (await created.json()) as JobView & { message?: unknown };
  if (!created.ok)
    throw new Error(`POST /jobs answered ${created.status}: ${JSON.stringify(createdBody.message ?? createdBody)}`);
  const id = createdBody.id;
  say(`job ${id} submitted`);
  let state = '';
  let printedEpochs = 0;
  for (;;) {
    const job = await get<JobView>(`/jobs/${id}`);
    for (; printedEpochs < job.epochs.length; printedEpochs++) {
      const e = job.epochs[printedEpochs];
      // A SecureBoost job reports one "epoch" per tree.
      const round = job.model === 'secureboost' ? 'tree ' : 'epoch';
      // Epochs the coordinator sized from the rows show in the progress, not in the request's placeholders.
      const sized = 'epochs' in job.progress ? job.progress.epochs : undefined;
      const rounds = job.model === 'secureboost' ? treesOf(body) : (sized ?? job.hyperparameters.epochs);
      say(
        `  ${round} ${String(e.epoch).padStart(2)}/${rounds}  validation ${epochLine(e)}  loss ${e.validationLoss.toFixed(4)}  ${e.seconds.toFixed(1)} s`,
      );
    }
    if (job.state !== state) {
      state = job.state;
      if (state !== 'succeeded' && state !== 'failed') say(`  ${state}…`);
    }
    if (job.state === 'succeeded' || job.state === 'failed') {
      const trail = await get<{
        verification: { valid: boolean; events: number; checkpoints: number; firstBroken: unknown };
      }>(`/jobs/${id}/audit?limit=1`);
      const v = trail.verification;
      return {
        job,
        audit: { records: v.events, valid: v.valid, signedHeads: v.checkpoints, firstBroken: v.firstBroken },
      };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The trees a SecureBoost request asks for (20 when it names none, the API's default). */
function treesOf(body: unknown): number {
  const settings = (body as { secureboost?: { trees?: unknown } }).secureboost;
  return typeof settings?.trees === 'number' ? settings.trees : 20;
}

/** An epoch's validation figures as the objective has them (AUC and KS, R² and RMSE, or accuracy and AUC). */
function epochLine(e: JobView['epochs'][number]): string {
  const figures: [string, number | undefined][] = [
    ['AUC', e.validationAuc],
    ['KS', e.validationKs],
    ['accuracy', e.validationAccuracy],
    ['R²', e.validationR2],
    ['RMSE', e.validationRmse],
  ];
  return figures
    .filter(([, v]) => v !== undefined)
    .map(([name, v]) => `${name} ${v!.toFixed(4)}`)
    .join('  ');
}
