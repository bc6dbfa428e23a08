import { join } from 'node:path';

/** What a support-bundle run stored (the workflow's output). */
export interface StoredBundle {
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
}

/** Where it went: the embedded S3 server (its folder) or an S3-compatible endpoint. */
export type ArchiveLocation = { embeddedDir: string } | { endpoint: string };

/** A word for a POSIX shell: keys may hold any character a prefix allowed. */
const shellWord = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The lines that end a support-bundle archival, in the demo and in `run support-bundle`: where the
 * bundle is stored, and the command that checks its bytes against the sha256 the run computed.
 */
export function storedBundleFooter(out: StoredBundle, where: ArchiveLocation): string[] {
  const stored = `Stored s3://${out.bucket}/${out.key} (${out.bytes} bytes, sha256 ${out.sha256}).`;
  if ('embeddedDir' in where) {
    return [
      stored,
      'The embedded S3 server keeps it on disk: verify it with',
      `  sha256sum ${shellWord(join(where.embeddedDir, out.bucket, `${out.key}._S3rver_object`))}`,
    ];
  }
  const url = shellWord(`s3://${out.bucket}/${out.key}`);
  return [
    stored,
    `Verify it with (the sha256 must match):`,
    `  aws --endpoint-url ${shellWord(where.endpoint)} s3 cp ${url} - | sha256sum`,
  ];
}
