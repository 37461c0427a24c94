import { createHmac } from 'node:crypto';

/** The headers of a Standard Webhooks message (https://www.standardwebhooks.com). */
export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs one delivery attempt: `v1,` + base64(HMAC-SHA256(key, "id.timestamp.body")), where the key is the
 * base64 part of a `whsec_` secret. The timestamp is the attempt's, in whole seconds.
 */
export function signStandardWebhook(
  secret: string,
  webhookId: string,
  timestampSeconds: number,
  body: string,
): StandardWebhookHeaders {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key)
    .update(`${webhookId}.${timestampSeconds}.${body}`)
    .digest('base64');
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}
