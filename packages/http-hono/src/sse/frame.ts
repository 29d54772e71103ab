/** The SSE wire format (WHATWG HTML, "server-sent events"): frames written as text. */

/**
 * What the `data:` of every stream event carries (HTTP.md, "Streams"): one envelope, the same
 * for SSE and, later, WebSocket. `type` and `id` repeat the frame's `event:` and `id:`.
 */
export interface StreamEnvelope<T = unknown> {
  /** The engine's event name (`trade.executed`, `price.updated`, ...), `valuation` or `reset`. */
  type: string;
  /** The event id, monotonic per stream: send it back as `Last-Event-ID` to resume. */
  id: string;
  /** When the stream hub recorded the event (ISO-8601 UTC, from the engine's clock). */
  at: string;
  /** The payload: the engine event's fields (without `type`), the valuation, or the reset's reason. */
  data: T;
}

/**
 * A frame as written on the wire, encoded once and shared by every client that gets it: its text
 * (for web streams) and its UTF-8 bytes (written as they are to Node responses, and counted
 * against a client's queue bound).
 */
export interface Frame {
  readonly text: string;
  readonly bytes: Uint8Array;
}

const encoder = new TextEncoder();

/** Encodes a frame's text once. */
export function frameOf(text: string): Frame {
  return { text, bytes: encoder.encode(text) };
}

/** The frame of one envelope: `event: <type>`, `id: <id>`, `data: <the envelope as JSON>`. */
export function envelopeFrame(envelope: StreamEnvelope): string {
  return sseFrame({ event: envelope.type, id: envelope.id, data: JSON.stringify(envelope) });
}

/** One event frame: `event:`, `id:` and one `data:` line per line of `data`, then a blank line. */
export function sseFrame(message: { event: string; id: string; data: string }): string {
  const data = message.data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n');
  return `event: ${oneLine(message.event)}\nid: ${oneLine(message.id)}\n${data}\n\n`;
}

/** The reconnection delay hint. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.trunc(ms))}\n\n`;
}

/** A comment line (ignored by clients; keeps proxies from closing an idle connection). */
export function sseComment(text: string): string {
  return `: ${oneLine(text)}\n\n`;
}

/** Event names and ids are single-line fields. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}
