import { afterEach, describe, expect, it, vi } from 'vitest';

// The fallback takes over, and says so, when the addon cannot be used.

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.resetModules();
});

describe('without the addon', () => {
  it('switches every index to the TypeScript fallback and logs why', async () => {
    vi.stubEnv('HARK_NATIVE_BACKEND', 'typescript');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.resetModules();
    const native = await import('../src/index.js');
    expect(native.backend).toBe('typescript');
    expect(native.fallbackReason).toBe('HARK_NATIVE_BACKEND=typescript');
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/using the exact TypeScript k-NN fallback/));
    const index = new native.HNSWIndex(4);
    expect(index.backend).toBe('typescript');
    index.add(new Float32Array([0, 0, 0, 0, 1, 1, 1, 1]));
    expect(index.search(new Float32Array([0.9, 1, 1, 1]), 1).labels[0]).toBe(1n);
    const err = await Promise.resolve()
      .then(() => new native.FlatIndex(4, { backend: 'faiss' }))
      .catch((e: Error & { code: string }) => e);
    expect((err as { code?: string }).code).toBe(native.ErrorCode.UNSUPPORTED);
  });

  it('loads the addon and stays quiet otherwise', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.resetModules();
    const native = await import('../src/index.js');
    expect(native.backend).toBe('faiss');
    expect(warn).not.toHaveBeenCalled();
  });
});
