export * from './simulated.js';
export * from './validate.js';
export * from './static.js';
