import { describe, expect, it } from 'vitest';
import { EventBus } from './events.js';
import { silentLogger } from './logger.js';

const event = { type: 'portfolio.deleted' as const, portfolioId: 'pf_1', ownerId: null };

describe('EventBus', () => {
  it('isolates throwing and rejecting listeners and logs them', async () => {
    const logged: unknown[] = [];
    const bus = new EventBus({ ...silentLogger, error: (_m, data) => void logged.push(data) });
    const seen: string[] = [];
    bus.on('portfolio.deleted', () => {
      throw new Error('sync boom');
    });
    bus.on('portfolio.deleted', async () => {
      throw new Error('async boom');
    });
    bus.on('portfolio.deleted', (e) => void seen.push(e.portfolioId));
    bus.onAny((e) => void seen.push(`any:${e.type}`));
    expect(() => bus.emit(event)).not.toThrow();
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['pf_1', 'any:portfolio.deleted']);
    expect(logged).toHaveLength(2);
  });

  it('once fires once; the returned function unsubscribes', () => {
    const bus = new EventBus(silentLogger);
    let once = 0;
    let on = 0;
    bus.once('portfolio.deleted', () => void once++);
    const off = bus.on('portfolio.deleted', () => void on++);
    bus.emit(event);
    bus.emit(event);
    off();
    bus.emit(event);
    expect(once).toBe(1);
    expect(on).toBe(2);
    expect(bus.listenerCount('portfolio.deleted')).toBe(0);
  });
});
