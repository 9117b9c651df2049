/**
 * The order queued jobs start in: round-robin across submitters (one lane per API key), first
 * come, first served within a lane. A submitter that queues twenty jobs gets every other start
 * while a second submitter waits, instead of running all twenty first.
 */
export class FairJobQueue<T> {
  /** Non-empty lanes in turn order: the first one starts next. Map keeps insertion order. */
  private readonly lanes = new Map<string, T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Queues `item` behind its submitter's earlier items; a submitter new to the queue takes the last turn. */
  push(submitter: string, item: T): void {
    const lane = this.lanes.get(submitter);
    if (lane) lane.push(item);
    else this.lanes.set(submitter, [item]);
    this.count++;
  }

  /** The oldest item of the submitter whose turn it is; that submitter then goes to the back. */
  shift(): T | undefined {
    const next = this.lanes.entries().next();
    if (next.done) return undefined;
    const [submitter, lane] = next.value;
    const item = lane.shift()!;
    this.lanes.delete(submitter);
    if (lane.length > 0) this.lanes.set(submitter, lane);
    this.count--;
    return item;
  }

  /** Takes out the first item that matches (a cancelled job); false when none does. Turns are unchanged. */
  remove(matches: (item: T) => boolean): boolean {
    for (const [submitter, lane] of this.lanes) {
      const index = lane.findIndex(matches);
      if (index < 0) continue;
      lane.splice(index, 1);
      if (lane.length === 0) this.lanes.delete(submitter);
      this.count--;
      return true;
    }
    return false;
  }
}
