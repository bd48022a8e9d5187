export * from './errors';
export * from './limits';
export * from './subjects';
export * from './messages';
export * from './codec';
export * from './validate';
export * from './record';
export * from './equal';
