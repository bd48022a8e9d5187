export * from './ports';
export * from './nats-server';
export * from './node-process';
export * from './status';
export * from './pair';
export * from './audit';
export * from './join-storm';
export * from './loadgen-process';
