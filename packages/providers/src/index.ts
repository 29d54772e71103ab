export * from './simulated.js';
export * from './validate.js';
