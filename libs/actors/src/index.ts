export * from './clock';
export * from './errors';
export * from './fifo';
export * from './dedupe';
export * from './asset-actor';
export * from './processor';
export * from './snapshot-codec';
export * from './role-machine';
