/** Core's own in-memory test provider runs the published provider suite, its gaps skipped with a reason. */
import { createManualClock } from './clock.js';
import { createTestProvider } from './provider.js';
import { runProviderConformance } from './provider-conformance.js';

runProviderConformance({
  name: 'createTestProvider',
  create: () =>
    createTestProvider({
      prices: { AAPL: '150.25', 'BRK.B': '420.5' },
      history: {
        AAPL: [
          { day: '2026-01-02', close: '150' },
          { day: '2026-01-05', close: '151.5' },
        ],
        'BRK.B': [{ day: '2026-01-02', close: '420.5' }],
      },
      clock: createManualClock('2026-01-06T00:00:00Z'),
    }),
  knownSymbols: ['AAPL', 'BRK.B'],
  historyRange: { from: '2026-01-01', to: '2026-01-31' },
  skip: {
    malformedRange: 'the test provider trusts the ranges the engine has already validated',
    abort: 'the test provider answers from memory and takes no signal',
  },
});
