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
