import { AdapterCache } from 'src/inference/adapter-cache';
import { LoraAdapter } from 'src/inference/lora-adapter';

const adapter = (digest: string, bytes: number): LoraAdapter => ({
  digest,
  bytes,
  modules: new Map(),
  routeKey: null,
});

describe('AdapterCache', () => {
  it('loads each folder once, also when asked concurrently', async () => {
    const load = jest.fn((folder: string) => Promise.resolve(adapter(folder, 10)));
    const cache = new AdapterCache(100, load);
    const [a, b] = await Promise.all([cache.get('x'), cache.get('x')]);
    expect(a).toBe(b);
    await cache.get('x');
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('evicts the least recently used adapters past its byte budget', async () => {
    const load = jest.fn((folder: string) => Promise.resolve(adapter(folder, 40)));
    const cache = new AdapterCache(100, load);
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // 120 bytes: b goes
    expect(cache.size).toEqual({ adapters: 2, bytes: 80 });
    await cache.get('a');
    expect(load).toHaveBeenCalledTimes(3);
    await cache.get('b');
    expect(load).toHaveBeenCalledTimes(4);
  });

  it('keeps an adapter larger than the budget until the next one arrives', async () => {
    const cache = new AdapterCache(10, (f) => Promise.resolve(adapter(f, 50)));
    await cache.get('big');
    expect(cache.size.adapters).toBe(1);
  });

  it('does not cache a failed load', async () => {
    const load = jest
      .fn<Promise<LoraAdapter>, [string]>()
      .mockRejectedValueOnce(new Error('bad file'))
      .mockResolvedValueOnce(adapter('x', 1));
    const cache = new AdapterCache(100, load);
    await expect(cache.get('x')).rejects.toThrow('bad file');
    await expect(cache.get('x')).resolves.toMatchObject({ digest: 'x' });
  });
});
