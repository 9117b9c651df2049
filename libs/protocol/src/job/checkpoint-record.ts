/**
 * The coordinator's record that every party kept with its checkpoint and handed back on resume:
 * one record, and with early-stopping state exactly when the resuming job stops early.
 */
export function agreedCheckpointRecord<T>(
  records: readonly (T | null | undefined)[],
  stopping: boolean,
  hasEarlyStopping: (record: T | null) => boolean,
): T | null {
  const record = records[0] ?? null;
  if (records.some((r) => JSON.stringify(r ?? null) !== JSON.stringify(record)))
    throw new Error("the parties' checkpoints disagree on the coordinator's record");
  if (stopping && !hasEarlyStopping(record))
    throw new RangeError('the checkpoint holds no early-stopping record: it is of a job without early stopping');
  if (!stopping && hasEarlyStopping(record))
    throw new RangeError('the checkpoint is of a job with early stopping, this one has none');
  return record;
}
