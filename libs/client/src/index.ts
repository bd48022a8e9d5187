export * from './mux';
export * from './tx-client';
