export * from './connect';
export * from './nats-transport';
export * from './kv-arbiter';
export * from './nats-flags';
