import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';

/** s3rver's fixed credentials: any S3 client talking to it must sign with these. */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedS3 {
  endpoint: string;
  directory: string;
  close(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver) on loopback, storing objects under `directory`:
 * the local stand-in for the archive bucket.
 */
export async function startEmbeddedS3(options: {
  directory: string;
  buckets: string[];
  port?: number;
}): Promise<EmbeddedS3> {
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory: options.directory,
    close: () => server.close(),
  };
}
