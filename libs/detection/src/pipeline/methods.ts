/**
 * The method registry: builds an `AnomalyMethod` from its id and constructor options, or restores one from
 * a saved state. Every method's constructor options object is its config schema.
 */
import type { AnomalyMethod, MethodState } from '../method.js';
import { Padim, type PadimOptions } from '../padim/model.js';
import { PatchCore, type PatchCoreOptions } from '../patchcore/model.js';
import { Spade, type SpadeOptions } from '../spade/model.js';
import type { MethodId } from './config.js';

interface MethodFactory {
  create(options: Record<string, unknown>): AnomalyMethod;
  fromState(state: MethodState): AnomalyMethod;
}

const FACTORIES: Partial<Record<MethodId, MethodFactory>> = {
  patchcore: {
    create: (o) => new PatchCore(o as PatchCoreOptions),
    fromState: (s) => PatchCore.fromState(s),
  },
  padim: {
    create: (o) => new Padim(o as PadimOptions),
    fromState: (s) => Padim.fromState(s),
  },
  spade: {
    create: (o) => new Spade(o as SpadeOptions),
    fromState: (s) => Spade.fromState(s),
  },
};

function factory(id: MethodId): MethodFactory {
  const f = FACTORIES[id];
  if (!f) {
    const ready = Object.keys(FACTORIES).join(', ');
    throw new Error(`method '${id}' is not available in this build; available: ${ready}`);
  }
  return f;
}

/** A new, unfitted method. */
export function createMethod(id: MethodId, options: Record<string, unknown>): AnomalyMethod {
  return factory(id).create(options);
}

/** Throws the method's own error (naming the value) when `options` are not valid options of method `id`. */
export function checkMethodOptions(id: MethodId, options: Record<string, unknown>): void {
  createMethod(id, options).dispose();
}

/** A fitted method restored from its saved state. */
export function methodFromState(id: MethodId, state: MethodState): AnomalyMethod {
  return factory(id).fromState(state);
}

/** Ids of the methods this build can fit. */
export function availableMethods(): MethodId[] {
  return Object.keys(FACTORIES) as MethodId[];
}
