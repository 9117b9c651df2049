/** The commands and peer messages a party serves, by name, from the handler groups it was given. */
import type { AnyCommandHandler, AnyPeerHandler, PartyHandlerGroup, PartyModelHooks } from './party-model';

export class PartyHandlerRegistry {
  private readonly commands = new Map<string, AnyCommandHandler>();
  private readonly peers = new Map<string, AnyPeerHandler>();
  private readonly models = new Map<string, PartyModelHooks>();

  constructor(groups: readonly PartyHandlerGroup[]) {
    for (const g of groups) {
      for (const h of g.commands) {
        if (this.commands.has(h.command.name)) throw new RangeError(`command ${h.command.name} is registered twice`);
        this.commands.set(h.command.name, h);
      }
      for (const h of g.peers ?? []) {
        if (this.peers.has(h.message.type)) throw new RangeError(`peer message ${h.message.type} is registered twice`);
        this.peers.set(h.message.type, h);
      }
      if (g.model) {
        if (this.models.has(g.model)) throw new RangeError(`model ${g.model} is registered twice`);
        this.models.set(g.model, g.hooks ?? {});
      }
    }
  }

  command(name: string): AnyCommandHandler | undefined {
    return this.commands.get(name);
  }

  peer(type: string): AnyPeerHandler | undefined {
    return this.peers.get(type);
  }

  hooks(model: string): PartyModelHooks | undefined {
    return this.models.get(model);
  }

  commandNames(): string[] {
    return [...this.commands.keys()];
  }
}
