export * from './transport';
export * from './epoch-store';
export * from './client-door';
export * from './durability';
export * from './tx-node';
export * from './arbiter';
export * from './election';
export * from './faults';
