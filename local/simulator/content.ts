import { createHash } from 'node:crypto';

const BLOCK = 1024 * 1024;
const blocks = new Map<string, Buffer>();

/** A 1 MiB pseudo-random block seeded by the bundle key (cached: bundles are read more than once). */
function seedBlock(key: string): Buffer {
  let block = blocks.get(key);
  if (!block) {
    block = Buffer.alloc(BLOCK);
    const seed = createHash('sha256').update(key).digest();
    for (let i = 0; i < BLOCK / 32; i++) {
      createHash('sha256')
        .update(seed)
        .update(String(i))
        .digest()
        .copy(block, i * 32);
    }
    blocks.set(key, block);
  }
  return block;
}

/**
 * The bytes of a support bundle: deterministic for its key and size, streamed block by block (a
 * 4 GiB bundle is never in memory). Starts with the zip local-file magic; each block carries its
 * index so blocks differ.
 */
export function* bundleChunks(key: string, bytes: number): Generator<Buffer> {
  const seed = seedBlock(key);
  for (let offset = 0, index = 0; offset < bytes; offset += BLOCK, index++) {
    const chunk = Buffer.from(seed.subarray(0, Math.min(BLOCK, bytes - offset)));
    if (chunk.length >= 8) chunk.writeUInt32BE(index, 4);
    if (index === 0) chunk.write('PK\u0003\u0004', 0, 'latin1');
    yield chunk;
  }
}

/** SHA-256 of a bundle's content, as a test would compute it from the stored object. */
export function bundleSha256(key: string, bytes: number): string {
  const hash = createHash('sha256');
  for (const chunk of bundleChunks(key, bytes)) hash.update(chunk);
  return hash.digest('hex');
}
