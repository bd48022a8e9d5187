/**
 * The models the node serves, by the name clients put in the `model` field.
 * Adding a model: write its file, then add one entry to MODELS (and its import).
 */
import { accountModel } from './account';
import type { Model } from './model';
import { orderbookModel } from './orderbook';
import { registerModel } from './register';

// Typed as Model (state unknown): the node only hands a state back to the model that made it.
const MODELS: readonly Model[] = [accountModel, registerModel, orderbookModel];

function byName(list: readonly Model[]): ReadonlyMap<string, Model> {
  const map = new Map<string, Model>();
  for (const m of list) {
    // Fails at startup rather than silently shadowing a model clients already use.
    if (map.has(m.name)) throw new Error(`duplicate model name "${m.name}"`);
    map.set(m.name, m);
  }
  return map;
}

export const models: ReadonlyMap<string, Model> = byName(MODELS);

export function getModel(name: string): Model | undefined {
  return models.get(name);
}
