import { z } from 'zod';
import type { Command } from '../src/wire/command';

/** A command by name whose body the coordinator's side does not check: for tests of what a party refuses. */
export function untyped(name: string): Command<Record<string, unknown>, Record<string, unknown>> {
  return { name, request: z.record(z.string(), z.unknown()), reply: z.record(z.string(), z.unknown()) };
}
