/**
 * The served OpenAPI document is valid OpenAPI 3.0 by a kept validator (`@apidevtools/swagger-parser`), as client
 * generators read it: booted from `createServer`, fetched from `/api/docs-json`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type HarkServer } from '../../src/server.js';

type Document = Parameters<typeof SwaggerParser.validate>[0] & {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
};

/** An object schema as the document writes it (`obj()` in src/http/schemas.ts). */
interface Shape {
  properties?: Record<string, Shape>;
  required?: string[];
  additionalProperties?: unknown;
}

/** The keys of a JSON object, nested objects as their own key lists (maps such as `waitingWrites` as `{}`). */
function shape(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'value';
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
}

/** The same of a schema: its properties, each required (the body has them all); a map (`additionalProperties`,
 * empty in a healthy body) as `{}`. */
function documented(s: Shape): unknown {
  if (s.additionalProperties) return {};
  if (!s.properties) return 'value';
  expect(s.required?.slice().sort()).toEqual(Object.keys(s.properties).sort());
  return Object.fromEntries(Object.entries(s.properties).map(([k, x]) => [k, documented(x)]));
}

/** A deep copy: the validator dereferences what it is given in place. */
const copy = (d: Document): Document => structuredClone(d);

describe('the OpenAPI document', () => {
  let server: HarkServer;
  let dir: string;
  let served: Document;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hark-openapi-'));
    server = await createServer({ dataDir: dir, port: 0, log: () => {}, dashboardDir: null });
    const res = await fetch(`${server.url}/api/docs-json`);
    expect(res.status).toBe(200);
    served = (await res.json()) as Document;
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('served at /api/docs-json is valid OpenAPI 3.0', async () => {
    await expect(SwaggerParser.validate(copy(served))).resolves.toMatchObject({ openapi: '3.0.0' });
  });

  it('describes every field of the health body (the dashboard banner reads it), and marks them required', async () => {
    const body = (await (await fetch(`${server.url}/api/health`)).json()) as Record<string, unknown>;
    const schemas = (served as unknown as { components: { schemas: Record<string, Shape> } }).components
      .schemas;
    expect(shape(body)).toEqual(documented(schemas.Health));
  });

  it('a schema mistake fails the validation (the check above can fail)', async () => {
    // `required: []` is what PATCH /api/sensors/{id} once had: OpenAPI 3.0 wants at least one name there.
    const emptyRequired = copy(served);
    const patch = emptyRequired.paths['/api/sensors/{id}'].patch.requestBody!.content['application/json'];
    (patch.schema as { required: string[] }).required = [];
    await expect(SwaggerParser.validate(emptyRequired)).rejects.toThrow(/required/);

    const danglingRef = copy(served);
    danglingRef.paths['/api/sensors/{id}'].patch.requestBody!.content['application/json'].schema = {
      $ref: '#/components/schemas/NoSuchSchema',
    };
    await expect(SwaggerParser.validate(danglingRef)).rejects.toThrow(/NoSuchSchema/);
  });
});
