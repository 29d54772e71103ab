/** A worker module that fails to load (the runner's tests: a run then fails with `INVALID_CONFIGURATION`). */
throw new Error('this module is broken on purpose');
