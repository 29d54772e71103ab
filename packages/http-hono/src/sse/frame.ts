/** The SSE wire format (WHATWG HTML, "server-sent events"): frames written as text. */

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
