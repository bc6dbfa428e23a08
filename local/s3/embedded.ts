import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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
  // s3rver 3.7.1 answers AbortMultipartUpload with MethodNotAllowed and keeps the parts: add it,
  // ahead of s3rver's router, so aborted uploads leave nothing behind here either.
  server.middleware.splice(server.middleware.length - 1, 0, async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    if (ctx.method !== 'DELETE' || !uploadId || !/^[0-9a-f]+$/.test(uploadId)) return next();
    const bucket = decodeURIComponent(ctx.path.split('/')[1] ?? '');
    rmSync(join(server.store.getResourcePath(bucket, undefined, 'uploads'), uploadId), {
      recursive: true,
      force: true,
    });
    ctx.status = 204;
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory: options.directory,
    close: () => server.close(),
  };
}
