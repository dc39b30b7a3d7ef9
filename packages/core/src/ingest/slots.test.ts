import { describe, expect, it } from 'vitest';
import { IngestSlots } from './slots.ts';

const settled = async <T>(p: Promise<T>) => {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  // Two turns of the microtask queue are enough for a promise that was already resolved.
  await Promise.resolve();
  await Promise.resolve();
  return done;
};

describe('ingest slots', () => {
  it('let any number of jobs wait for embeddings, but only `size` write at once when all come back together', async () => {
    const slots = new IngestSlots(2);
    const jobs = [];
    // Each job takes a slot, then gives it up while it waits for its embeddings, so the next can start.
    for (let i = 0; i < 6; i++) {
      expect(slots.free).toBeGreaterThan(0);
      const job = slots.enter();
      job.embedding();
      jobs.push(job);
    }
    expect(slots.preparing).toBe(0);
    expect(slots.busy).toBe(0);
    expect(slots.free).toBe(2);
    // One coalesced request answers all six at once.
    const signal = new AbortController().signal;
    const writes = jobs.map((j) => j.write(signal));
    const granted = await Promise.all(writes.map(settled));
    expect(granted).toEqual([true, true, false, false, false, false]);
    // Writing or queued to write: the jobs claimed after them will want embeddings too.
    expect(slots.busy).toBe(6);
    // Jobs back from their embeddings come before new ones.
    expect(slots.free).toBe(0);
    jobs[0]!.leave();
    expect(await Promise.all(writes.map(settled))).toEqual([true, true, true, false, false, false]);
    jobs[1]!.leave();
    jobs[2]!.leave();
    expect(await Promise.all(writes.map(settled))).toEqual([true, true, true, true, true, false]);
  });

  it('count a job that prepares as holding a slot, and give its slot to a waiting writer when it waits', async () => {
    const slots = new IngestSlots(1);
    const writer = slots.enter();
    writer.embedding();
    const preparing = slots.enter();
    expect(slots.preparing).toBe(1);
    const write = writer.write(new AbortController().signal);
    expect(await settled(write)).toBe(false);
    preparing.embedding();
    expect(await settled(write)).toBe(true);
  });

  it('drop a job aborted while it waits for a slot, and pass the slot on', async () => {
    const slots = new IngestSlots(1);
    const [a, b, c] = [slots.enter(), slots.enter(), slots.enter()];
    for (const j of [a, b, c]) j.embedding();
    const stop = new AbortController();
    const writes = [
      a.write(new AbortController().signal),
      b.write(stop.signal),
      c.write(new AbortController().signal),
    ];
    stop.abort(new Error('handed back'));
    await expect(writes[1]).rejects.toThrow('handed back');
    b.leave();
    a.leave();
    expect(await settled(writes[2]!)).toBe(true);
  });

  it('let fewer jobs write than prepare when told (the embedded engine: one writer)', async () => {
    const slots = new IngestSlots(2, 1);
    const [a, b] = [slots.enter(), slots.enter()];
    const signal = new AbortController().signal;
    const writes = [a.write(signal), b.write(signal)];
    expect(await Promise.all(writes.map(settled))).toEqual([true, false]);
    // The other slot still takes a new job to prepare.
    expect(slots.free).toBe(0);
    a.leave();
    expect(await settled(writes[1]!)).toBe(true);
    expect(slots.free).toBe(1);
  });
});
