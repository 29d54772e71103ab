/**
 * SSE event ids: `<epoch>-<seq>`. The epoch names one hub (its start time in base 36 and a random
 * tail), so an id from another process run or another instance is recognised as unknown and
 * answered with a `reset`; `seq` is one counter for all of a hub's streams, so ids are monotonic
 * within each stream.
 */

/** A parsed event id. */
export interface EventId {
  epoch: string;
  seq: number;
}

/** A new epoch: the current time and 6 random characters, in `[0-9a-z]` only (never a `-`). */
export function newEpoch(now: number = Date.now()): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36).padStart(7, '0').slice(-6);
  return now.toString(36) + random;
}

/** The id of event `seq` of the hub with `epoch`. */
export function formatEventId(epoch: string, seq: number): string {
  return `${epoch}-${seq}`;
}

/** Parses an id sent back as `Last-Event-ID`; null when it is not of our form. */
export function parseEventId(id: string): EventId | null {
  const match = /^([0-9a-z]{1,40})-(0|[1-9][0-9]{0,15})$/.exec(id.trim());
  if (!match) return null;
  const seq = Number(match[2]);
  return Number.isSafeInteger(seq) ? { epoch: match[1]!, seq } : null;
}
