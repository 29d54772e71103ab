/**
 * The interactive API reference at `GET /docs`: Swagger UI, its assets served by the router from
 * the installed `swagger-ui-dist` package (never a CDN), so the page works offline and under a
 * strict CSP (no inline script: the start-up script is an asset too). Every URL in the page is
 * relative, so it works wherever the router is mounted.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FoliokitError } from '@foliokit/core';
import { z } from 'zod';
import type { AnyRouteSpec } from './route-table.js';
import { DOCS_CSP } from './security.js';

/** The path of the page, relative to the mount point. */
export const DOCS_PATH = '/docs';

/** The script that starts Swagger UI on the document next to the page, with no call to the outside. */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('openapi.json', window.location.href).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
`;

/** The page: relative URLs only (`docs/assets/...` resolves under `/api/docs` to `/api/docs/assets/...`). */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>foliokit API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/init.js"></script>
</body>
</html>
`;

const JS = 'text/javascript; charset=utf-8';

/** The assets the page loads, by name: files of `swagger-ui-dist`, and the start-up script. */
const ASSETS: Readonly<Record<string, { contentType: string; file?: string; text?: string }>> = {
  'swagger-ui.css': { contentType: 'text/css; charset=utf-8', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { contentType: JS, file: 'swagger-ui-bundle.js' },
  'init.js': { contentType: JS, text: INIT_SCRIPT },
};

/** The names of the assets served under `/docs/assets/`. */
export const DOCS_ASSETS: readonly string[] = Object.keys(ASSETS);

let distDir: string | undefined;
const cache = new Map<string, Uint8Array>();

/** The folder of the installed `swagger-ui-dist`. */
function swaggerUiDist(): string {
  distDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return distDir;
}

/** An asset's bytes, read from the installed package once. */
function assetBytes(name: string): Uint8Array | undefined {
  const asset = ASSETS[name];
  if (!asset) return undefined;
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = asset.file ? readFileSync(join(swaggerUiDist(), asset.file)) : new TextEncoder().encode(asset.text);
    cache.set(name, bytes);
  }
  return bytes;
}

/** The page and its assets, as routes of the table (public). */
export function docsRoutes(): AnyRouteSpec[] {
  return [
    {
      method: 'get',
      path: DOCS_PATH,
      operationId: 'getDocsPage',
      tag: 'Docs',
      summary: 'Interactive API reference (works offline)',
      policy: 'public',
      responses: [{ status: 200, description: 'The reference page', contentType: 'text/html' }],
      handler: (c) => c.html(DOCS_HTML, 200, { 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }),
    },
    {
      method: 'get',
      path: `${DOCS_PATH}/assets/:file`,
      operationId: 'getDocsAsset',
      tag: 'Docs',
      summary: "An asset of the reference page, from the installed package's files",
      policy: 'public',
      params: z.strictObject({
        file: z
          .string()
          .max(100)
          .meta({ examples: ['swagger-ui.css'] }),
      }),
      responses: [
        { status: 200, description: 'The asset (CSS or JavaScript)', contentType: 'text/plain' },
        { status: 404, description: 'No such asset', contentType: 'application/problem+json' },
      ],
      handler: (c, { params }) => {
        const name = (params as { file: string }).file;
        const bytes = assetBytes(name);
        const asset = ASSETS[name];
        if (!bytes || !asset) throw new FoliokitError('NOT_FOUND', `No docs asset ${name}`, { field: 'file' });
        return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
          'Content-Type': asset.contentType,
          'Cache-Control': 'public, max-age=86400',
        });
      },
    },
  ];
}
