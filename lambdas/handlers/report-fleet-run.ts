import { reportFleetRunOperation } from '../operations/fleet';
import { s3Client } from '../shared/archive';
import { lambdaHandler } from '../shared/aws';

// A fleet preflight's report goes to the archive bucket (under reports/).
export const handler = lambdaHandler(reportFleetRunOperation, {
  archive: { s3: s3Client(), defaultBucket: process.env.ARCHIVE_BUCKET, kmsKeyId: process.env.ARCHIVE_KMS_KEY_ID },
});
