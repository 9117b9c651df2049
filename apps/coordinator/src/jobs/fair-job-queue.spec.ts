import { FairJobQueue } from './fair-job-queue';

function drain<T>(queue: FairJobQueue<T>): T[] {
  const out: T[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  return out;
}

describe('FairJobQueue', () => {
  it('is first come, first served for one submitter', () => {
    const queue = new FairJobQueue<string>();
    for (const job of ['a1', 'a2', 'a3']) queue.push('A', job);
    expect(queue.size).toBe(3);
    expect(drain(queue)).toEqual(['a1', 'a2', 'a3']);
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });

  it('takes turns across submitters, so 20 queued jobs of one do not starve another', () => {
    const queue = new FairJobQueue<string>();
    for (let i = 1; i <= 20; i++) queue.push('batch-system', `a${i}`);
    queue.push('analyst', 'b1');
    queue.push('analyst', 'b2');
    queue.push('third', 'c1');
    expect(drain(queue)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', ...Array.from({ length: 18 }, (_, i) => `a${i + 3}`)]);
  });

  it('puts a submitter whose lane ran empty at the back when it submits again', () => {
    const queue = new FairJobQueue<string>();
    queue.push('A', 'a1');
    queue.push('B', 'b1');
    queue.push('B', 'b2');
    expect(queue.shift()).toBe('a1');
    queue.push('C', 'c1');
    queue.push('A', 'a2'); // A's lane was empty: it queues behind B and C
    expect(drain(queue)).toEqual(['b1', 'c1', 'a2', 'b2']);
  });

  it('removes a queued item (cancel) without disturbing the others or the turns', () => {
    const queue = new FairJobQueue<{ id: string }>();
    queue.push('A', { id: 'a1' });
    queue.push('A', { id: 'a2' });
    queue.push('B', { id: 'b1' });
    expect(queue.remove((j) => j.id === 'b1')).toBe(true);
    expect(queue.remove((j) => j.id === 'b1')).toBe(false);
    expect(queue.remove((j) => j.id === 'a1')).toBe(true);
    expect(queue.size).toBe(1);
    queue.push('B', { id: 'b2' });
    expect(drain(queue).map((j) => j.id)).toEqual(['a2', 'b2']);
  });
});
