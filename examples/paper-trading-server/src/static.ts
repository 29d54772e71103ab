/**
 * The dashboard's files: `public/` at `/` (no build step) and uPlot's script and styles at
 * `/vendor/uplot/...`, read from the installed package (no CDN).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));
const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

/** The uPlot files served, by the name they are served under. */
const VENDOR: Record<string, string> = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

/** Shown at `/` while `public/index.html` is missing. */
const FALLBACK_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>foliokit</title></head>
<body><h1>foliokit paper-trading server</h1><p>The API reference is at <a href="/api/docs">/api/docs</a>.</p></body></html>`;

/** A file's answer, or null when it cannot be read. */
async function fileResponse(path: string): Promise<Response | null> {
  try {
    const data = await readFile(path);
    return new Response(data, {
      headers: {
        'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
        'Cache-Control': 'no-cache',
      },
    });
  } catch {
    return null;
  }
}

/** The static routes: `/`, `/<file>` from `public/`, and `/vendor/uplot/<file>`. */
export function staticRoutes(): Hono {
  const app = new Hono();
  app.get('/vendor/uplot/:file', async (c) => {
    const spec = VENDOR[c.req.param('file')];
    const answer = spec ? await fileResponse(require.resolve(spec)) : null;
    return answer ?? c.notFound();
  });
  app.get('/', async (c) => (await fileResponse(join(PUBLIC_DIR, 'index.html'))) ?? c.html(FALLBACK_PAGE));
  app.get('/:file{[A-Za-z0-9_][A-Za-z0-9_.-]*}', async (c) => {
    const answer = await fileResponse(join(PUBLIC_DIR, c.req.param('file')));
    return answer ?? c.notFound();
  });
  return app;
}
