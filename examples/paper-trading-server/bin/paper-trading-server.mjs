#!/usr/bin/env node
// Placeholder: the example server's entry (written by the server's author).
console.error('foliokit paper-trading server: not built yet');
process.exit(1);
