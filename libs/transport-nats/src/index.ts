export * from './connect';
export * from './nats-transport';
