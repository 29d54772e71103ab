/**
 * The OpenAPI document: valid against the OpenAPI 3.1 schema, listing exactly the routes the
 * router serves (compared with its own route table), every error documented with the problem
 * schema; and the `/docs` page served offline from the installed package.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, listRoutes, type OpenApiDocument, ROUTE_TAGS } from '../src/index.js';
import { openApiPath } from '../src/openapi.js';
import { DOCS_CSP } from '../src/security.js';
import { createRouterFixture, type RouterFixture } from './support/router-fixture.js';

type Operation = {
  operationId: string;
  tags: string[];
  security: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown>; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

let fx: RouterFixture;
let doc: OpenApiDocument;

beforeAll(async () => {
  fx = createRouterFixture();
  const res = await fx.call('GET', '/openapi.json', { user: null });
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDocument;
});
afterAll(async () => {
  await fx.close();
});

/** Every operation of the document as `METHOD /path`. */
function operations(d: OpenApiDocument): Map<string, Operation> {
  const out = new Map<string, Operation>();
  for (const [path, item] of Object.entries(d.paths)) {
    for (const [method, op] of Object.entries(item)) out.set(`${method.toUpperCase()} ${path}`, op as Operation);
  }
  return out;
}

describe('the OpenAPI document', () => {
  it('validates against the OpenAPI 3.1 schema', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('lists every route of the table, and nothing else', () => {
    const table = listRoutes(fx.router).map((r) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`);
    expect([...operations(doc).keys()].sort()).toEqual([...table].sort());
    const ids = [...operations(doc).values()].map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(
      listRoutes(fx.router)
        .map((r) => r.operationId)
        .sort(),
    );
  });

  it('is the document of the route table, with the mount point as its server', () => {
    expect(doc).toEqual({ ...buildOpenApiDocument(listRoutes(fx.router)), servers: [{ url: '/' }] });
  });

  it('declares bearer security on every non-public route, and each route its policy', () => {
    const byKey = new Map(listRoutes(fx.router).map((r) => [`${r.method.toUpperCase()} ${openApiPath(r.path)}`, r]));
    for (const [key, op] of operations(doc)) {
      const spec = byKey.get(key);
      expect(spec, key).toBeDefined();
      expect(op.security, key).toEqual(spec?.policy === 'public' ? [] : [{ bearer: [] }]);
      if (spec?.policy !== 'public') expect(op.responses['401'], key).toBeDefined();
      if (spec?.policy === 'admin') expect(op.responses['403'], key).toBeDefined();
      if (spec?.owned) expect(op.responses['404'], key).toBeDefined();
      if (spec?.rateLimit) expect(op.responses['429'], key).toBeDefined();
    }
  });

  it('tags every operation with one of the declared tags', () => {
    const tags = new Set((doc.tags as Array<{ name: string }>).map((t) => t.name));
    for (const [key, op] of operations(doc)) {
      expect(op.tags, key).toHaveLength(1);
      expect(tags.has(op.tags[0] as string), key).toBe(true);
    }
    for (const t of ['Portfolios', 'Trading', 'Prices', 'Admin', 'Health']) expect(tags.has(t)).toBe(true);
  });

  it("names its tags as HTTP.md lists them, in that order, each the route table's own tag", () => {
    // HTTP.md, "OpenAPI": one tag per area. Docs (this document and its page) is the router's own area.
    const HTTP_MD_TAGS = [
      'Portfolios',
      'Trading',
      'Cash',
      'History',
      'Prices',
      'Watchlist',
      'Analytics',
      'Backtests',
      'Strategies',
      'Alerts',
      'Streams',
      'Admin',
      'Health',
      'Docs',
    ];
    const names = (doc.tags as Array<{ name: string; description: string }>).map((t) => t.name);
    for (const name of names) expect(HTTP_MD_TAGS, name).toContain(name);
    expect(names).toEqual(HTTP_MD_TAGS.filter((t) => names.includes(t)));
    expect([...ROUTE_TAGS]).toEqual(HTTP_MD_TAGS.filter((t) => (ROUTE_TAGS as readonly string[]).includes(t)));
    const used = new Set(listRoutes(fx.router).map((r) => r.tag));
    expect(names).toEqual(ROUTE_TAGS.filter((t) => used.has(t)));
    const byKey = new Map(listRoutes(fx.router).map((r) => [`${r.method.toUpperCase()} ${openApiPath(r.path)}`, r]));
    for (const [key, op] of operations(doc)) expect(op.tags, key).toEqual([byKey.get(key)?.tag]);
    expect(operations(doc).get('POST /portfolios/{id}/cash')?.tags).toEqual(['Cash']);
    expect(operations(doc).get('POST /portfolios/{id}/trades')?.tags).toEqual(['Trading']);
  });

  it('documents the problem fields as { path, message, in? } (HTTP.md)', () => {
    type Items = { items: { properties: object; required: string[] } };
    const schemas = (doc.components as { schemas: Record<string, { properties: Record<string, Items> }> }).schemas;
    const fields = schemas.Problem?.properties.fields as Items;
    expect(Object.keys(fields.items.properties).sort()).toEqual(['in', 'message', 'path']);
    expect([...fields.items.required].sort()).toEqual(['message', 'path']);
  });

  it('documents the Idempotent-Replayed header on the answers of idempotent routes', () => {
    for (const key of [
      'POST /portfolios/{id}/trades',
      'POST /portfolios/{id}/cash',
      'POST /portfolios/{id}/transactions/{transactionId}/void',
    ]) {
      const op = operations(doc).get(key) as Operation & {
        responses: Record<string, { headers?: Record<string, unknown> }>;
      };
      const ok = Object.entries(op.responses).find(([status]) => status.startsWith('2'))?.[1];
      expect(ok?.headers?.['Idempotent-Replayed'], key).toBeDefined();
      const header = op.parameters?.find((p) => p.name === 'Idempotency-Key') as { description?: string } | undefined;
      expect(header?.description, key).toContain('Idempotent-Replayed: true');
    }
  });

  it('describes the stream envelope, with an example event in it', () => {
    for (const key of ['GET /stream/prices', 'GET /stream/portfolios/{id}']) {
      const op = operations(doc).get(key) as Operation & {
        description: string;
        responses: Record<string, { content: Record<string, { example: string }> }>;
      };
      expect(op.description, key).toContain('{ type, id, at, data }');
      const example = op.responses['200']?.content['text/event-stream']?.example ?? '';
      const data = example.split('\n').find((line) => line.startsWith('data: '));
      const envelope = JSON.parse(data?.slice('data: '.length) ?? '{}') as Record<string, unknown>;
      expect(Object.keys(envelope).sort(), key).toEqual(['at', 'data', 'id', 'type']);
      expect(example).toContain(`event: ${envelope.type}\nid: ${envelope.id}\n`);
    }
  });

  it('documents every error answer with the problem schema (unless the route declares another body)', () => {
    const byKey = new Map(listRoutes(fx.router).map((r) => [`${r.method.toUpperCase()} ${openApiPath(r.path)}`, r]));
    for (const [key, op] of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const declared = byKey.get(key)?.responses.find((r) => String(r.status) === status);
        // GET /health answers 503 with its health report: load balancers read the status, people the body
        if (declared?.contentType === undefined && declared?.example !== undefined) continue;
        expect(response.content?.['application/problem+json']?.schema, `${key} ${status}`).toEqual({
          $ref: '#/components/schemas/Problem',
        });
      }
    }
  });

  it('shows an example of every request body, one the route itself accepts', () => {
    const byKey = new Map(listRoutes(fx.router).map((r) => [`${r.method.toUpperCase()} ${openApiPath(r.path)}`, r]));
    let bodies = 0;
    for (const [key, op] of operations(doc)) {
      const media = op.requestBody?.content['application/json'];
      if (!media) continue;
      bodies++;
      expect(media.example, `${key} has no body example`).toBeDefined();
      const accepted = byKey.get(key)?.body?.safeParse(media.example);
      expect(accepted?.success, `${key}: ${JSON.stringify(accepted?.error?.issues)}`).toBe(true);
    }
    expect(bodies).toBe(listRoutes(fx.router).filter((r) => r.body).length);
  });

  it('documents JSON bodies that refuse unknown fields, and path parameters as required', () => {
    let bodies = 0;
    for (const [key, op] of operations(doc)) {
      for (const p of op.parameters ?? []) if (p.in === 'path') expect(p.required, `${key} ${p.name}`).toBe(true);
      const media = op.requestBody?.content['application/json'];
      if (!media) continue;
      bodies++;
      const schema = media.schema;
      const objects = [schema, ...((schema.anyOf as Array<Record<string, unknown>> | undefined) ?? [])].filter(
        (s) => s.type === 'object',
      );
      for (const s of objects) expect(s.additionalProperties, key).toBe(false);
    }
    expect(bodies).toBeGreaterThanOrEqual(6);
  });
});

describe('the docs page', () => {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

  it('is served with its own CSP and loads nothing from another host', async () => {
    const res = await fx.call('GET', '/docs', { user: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP);
    const html = await res.text();
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string).filter((r) => r !== 'data:,');
    expect(refs.sort()).toEqual([
      'docs/assets/init.js',
      'docs/assets/swagger-ui-bundle.js',
      'docs/assets/swagger-ui.css',
    ]);
    for (const ref of refs) {
      const asset = await fx.call('GET', `/${ref}`, { user: null });
      expect(asset.status, ref).toBe(200);
      expect(asset.headers.get('content-type'), ref).toMatch(ref.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
    }
  });

  it("serves the installed package's files, and a start-up script that calls no other host", async () => {
    for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
      const served = new Uint8Array(await (await fx.call('GET', `/docs/assets/${file}`, { user: null })).arrayBuffer());
      expect(Buffer.from(served).equals(readFileSync(join(dist, file))), file).toBe(true);
    }
    const init = await (await fx.call('GET', '/docs/assets/init.js', { user: null })).text();
    expect(init).not.toMatch(/https?:/);
    expect(init).toContain('validatorUrl: null');
    expect(init).toContain("new URL('openapi.json'");
  });

  it('answers 404 for any other asset (no path traversal)', async () => {
    for (const file of ['..%2Fpackage.json', 'index.html', '%2e%2e%2f%2e%2e%2fpackage.json', 'swagger-ui.js.map']) {
      const res = await fx.call('GET', `/docs/assets/${file}`, { user: null });
      expect(res.status, file).toBe(404);
    }
  });
});
