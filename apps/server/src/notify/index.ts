/** Webhooks: signed JSON POSTs of alert events, from a durable outbox, with retries. */
export * from './classify.js';
export * from './signature.js';
export * from './webhook.notifier.js';
