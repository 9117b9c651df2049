/**
 * The models this platform serves, in one place: each model folder's party handlers, with the
 * groups every job uses (job, psi, predict). A new model is a folder and one line here; a test
 * can serve an extra one with `partyHandlers([...BUILT_IN_GROUPS, itsGroup])`.
 */
import { jobHandlers } from './job/party-handlers';
import { PartyHandlerRegistry } from './party/handler-registry';
import type { PartyHandlerGroup } from './party/party-model';
import { predictHandlers } from './predict/party-handlers';
import { psiHandlers } from './psi/party-handlers';
import { splitLrHandlers } from './split-lr/party-handlers';
import { splitNnHandlers } from './split-nn/party-handlers';

/** A PSI feasibility check: alignment only, the label party counts (no model steps). */
const psiCardinalityHandlers: PartyHandlerGroup = { model: 'psi-cardinality', hooks: {}, commands: [] };

export const BUILT_IN_GROUPS: readonly PartyHandlerGroup[] = [psiHandlers, predictHandlers, psiCardinalityHandlers, splitLrHandlers, splitNnHandlers];

/** A party's registry: the shared job commands (whose model steps go to each model's hooks) and `groups`. */
export function partyHandlers(groups: readonly PartyHandlerGroup[] = BUILT_IN_GROUPS): PartyHandlerRegistry {
  const registry: PartyHandlerRegistry = new PartyHandlerRegistry([jobHandlers((model) => registry.hooks(model)), ...groups]);
  return registry;
}
