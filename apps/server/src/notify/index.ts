/**
 * Notifications: the env-configured signed webhook (`WebhookNotifier`, a durable outbox with retries) and the
 * channels and rules admins store in the database (`NotificationService`: webhook, Slack, Teams, e-mail, MQTT).
 */
export * from './channel-input.js';
export * from './classify.js';
export * from './dispatcher.js';
export * from './messages.js';
export * from './notification.service.js';
export * from './rule-input.js';
export * from './rules.js';
export * from './senders.js';
export * from './signature.js';
export * from './webhook.notifier.js';
