import { archiveSupportBundle } from '../operations/archive';
import { s3Client } from '../shared/archive';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(archiveSupportBundle, {
  archive: { s3: s3Client(), defaultBucket: process.env.ARCHIVE_BUCKET, kmsKeyId: process.env.ARCHIVE_KMS_KEY_ID },
});
