// s3rver ships no types; this is the part of its API the embedded S3 uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  interface KoaContext {
    method: string;
    path: string;
    query: Record<string, string | undefined>;
    status: number;
  }
  interface S3rverOptions {
    address?: string;
    port?: number;
    directory: string;
    silent?: boolean;
    resetOnClose?: boolean;
    configureBuckets?: Array<{ name: string }>;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Koa's middleware list (S3rver extends Koa). */
    middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void>;
    store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
