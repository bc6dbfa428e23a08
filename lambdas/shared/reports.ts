import { PutObjectCommand } from '@aws-sdk/client-s3';
import { encryption } from './archive';
import { errorText, NamedError } from './errors';
import type { Deps } from './operation';

/* Fleet reports in the archive bucket, under `reports/` (the only prefix their functions may write). */

/** Stores one object of a report in the archive bucket (under `reports/`); returns where. */
export async function storeObject(
  archive: Deps['archive'],
  key: string,
  body: string,
  contentType: string,
): Promise<{ bucket: string; key: string }> {
  if (!archive?.defaultBucket) throw new NamedError('Internal.Error', 'no archive bucket to store the fleet report in');
  await archive.s3
    .send(
      new PutObjectCommand({
        Bucket: archive.defaultBucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ...encryption(archive.kmsKeyId),
      }),
    )
    .catch((err: unknown) => {
      throw new NamedError('S3.ArchiveFailed', `Cannot store the fleet report ${key}: ${errorText(err)}`);
    });
  return { bucket: archive.defaultBucket, key };
}

/** Stores a fleet report in the archive bucket as `<key>.json` and `<key>.md`; returns where. */
export async function storeReport(
  archive: Deps['archive'],
  key: string,
  report: { json: unknown; markdown: string },
): Promise<{ bucket: string; keys: string[] }> {
  const json = await storeObject(
    archive,
    `${key}.json`,
    `${JSON.stringify(report.json, null, 2)}\n`,
    'application/json',
  );
  const md = await storeObject(archive, `${key}.md`, report.markdown, 'text/markdown; charset=utf-8');
  return { bucket: json.bucket, keys: [json.key, md.key] };
}
