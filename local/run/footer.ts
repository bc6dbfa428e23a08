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

/** What a fleet upgrade reported (its output, or its Report state's on a failed run). */
export interface FleetReport {
  summary: Record<string, number>;
  appliances: Array<{
    name: string;
    cluster: string | null;
    outcome: string;
    previousVersion: string | null;
    version: string | null;
    error: string | null;
  }>;
  stored: { bucket: string; keys: string[] };
  clusters: Array<{ name: string; onOneVersion: boolean; versions: Record<string, string[]> }>;
}

/**
 * The lines that end a fleet upgrade, in the demo and in `run fleet-upgrade`: one line per
 * appliance, the summary, and where the report is (the Markdown table is the one to read).
 */
export function fleetReportFooter(report: FleetReport, where: ArchiveLocation): string[] {
  const width = Math.max(...report.appliances.map((a) => a.name.length), 9);
  const rows = report.appliances.map(
    (a) =>
      `  ${a.name.padEnd(width)}  ${(a.cluster ?? '').padEnd(16)}  ${a.outcome.padEnd(15)}  ${a.previousVersion ?? '?'} → ${a.version ?? '?'}${a.error ? `  ${a.error}` : ''}`,
  );
  const summary = Object.entries(report.summary)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`)
    .join(', ');
  const [json, md] = report.stored.keys;
  const read =
    'embeddedDir' in where
      ? [
          `  cat ${shellWord(join(where.embeddedDir, report.stored.bucket, `${md}._S3rver_object`))}`,
          `  (the JSON: ${shellWord(join(where.embeddedDir, report.stored.bucket, `${json}._S3rver_object`))})`,
        ]
      : [
          `  aws --endpoint-url ${shellWord(where.endpoint)} s3 cp ${shellWord(`s3://${report.stored.bucket}/${md}`)} -`,
        ];
  const clusters = report.clusters.map(
    (c) =>
      `  cluster ${c.name}: ${
        c.onOneVersion
          ? `all on ${Object.keys(c.versions)[0]}`
          : `NOT ON ONE VERSION: ${Object.entries(c.versions)
              .map(([v, nodes]) => `${v} (${nodes.join(', ')})`)
              .join(', ')}`
      }`,
  );
  return [
    `Fleet upgrade: ${summary}.`,
    ...rows,
    ...clusters,
    `Report s3://${report.stored.bucket}/${md} (a Markdown table; and .json): read it with`,
    ...read,
  ];
}
