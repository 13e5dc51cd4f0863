import { describe, expect, it } from 'vitest';
import type { NotificationChannel } from '../src/lib/contracts';
import {
  channelFormOf,
  channelInput,
  channelTarget,
  emptyChannelForm,
  emptyRuleForm,
  parseLabels,
  ruleInput,
} from '../src/lib/notify-form';

describe('notification forms', () => {
  it('send only the fields of the chosen kind, without empty optional ones', () => {
    const f = { ...emptyChannelForm(), name: ' plant ', url: 'mqtt://b:1883 ', secret: 'unused' };
    expect(channelInput(f)).toEqual({
      name: 'plant',
      kind: 'mqtt',
      config: { url: 'mqtt://b:1883', topic: 'hark/alerts/{sensorId}', qos: 1, retain: false },
    });
    const mail = {
      ...emptyChannelForm(),
      name: 'm',
      kind: 'email' as const,
      host: 'smtp.plant',
      from: 'hark@plant.example',
      to: 'a@plant.example, b@plant.example',
      password: 'pw',
    };
    expect(channelInput(mail).config).toEqual({
      host: 'smtp.plant',
      security: 'starttls',
      password: 'pw',
      from: 'hark@plant.example',
      to: ['a@plant.example', 'b@plant.example'],
    });
  });

  it('read a label group and refuse a pair without =', () => {
    expect(parseLabels('site=plant-1, line = A')).toEqual({ site: 'plant-1', line: 'A' });
    expect(parseLabels('')).toEqual({});
    expect(() => parseLabels('site')).toThrow("label 'site' must be written key=value");
  });

  it('make a rule body with quiet hours and escalation only when asked', () => {
    const f = { ...emptyRuleForm('Europe/Berlin'), name: 'r', channelId: 1, sensorIds: 'a, b' };
    expect(ruleInput(f)).toEqual({
      name: 'r',
      channelId: 1,
      sensorIds: ['a', 'b'],
      labels: {},
      severities: ['warning', 'critical'],
      events: ['alert.opened'],
      quietHours: null,
      escalation: null,
    });
    expect(ruleInput({ ...f, quiet: true, escalateMinutes: 15, escalateChannelId: 2 })).toMatchObject({
      quietHours: { start: '22:00', end: '06:00', timeZone: 'Europe/Berlin' },
      escalation: { afterMinutes: 15, channelId: 2 },
    });
    expect(() => ruleInput({ ...f, escalateMinutes: 5 })).toThrow('choose the channel to escalate to');
    expect(() => ruleInput({ ...f, channelId: null })).toThrow('choose the channel');
  });

  it('show where a channel sends without secrets', () => {
    const base = {
      id: 1,
      name: 'c',
      enabled: true,
      hasSecret: true,
      secretFields: [],
      createdAt: 0,
      updatedAt: 0,
    };
    expect(
      channelTarget({ ...base, kind: 'slack', config: { host: 'hooks.slack.com' } } as NotificationChannel),
    ).toBe('hooks.slack.com (URL kept secret)');
    expect(
      channelTarget({
        ...base,
        kind: 'mqtt',
        config: { url: 'mqtt://b', topic: 't', qos: 1, retain: false, username: null },
      } as NotificationChannel),
    ).toBe('mqtt://b topic t');
  });

  it('edit a stored channel: its settings come back as they were, secrets empty (kept)', () => {
    const base = {
      id: 1,
      name: 'c',
      enabled: true,
      hasSecret: true,
      secretFields: ['password'],
      createdAt: 0,
      updatedAt: 0,
    };
    const mqtt = { url: 'mqtt://b:1883', topic: 'plant/{sensorId}', qos: 2, retain: true, username: 'hark' };
    const mail = {
      host: 'smtp.plant',
      port: 465,
      security: 'tls',
      user: 'hark',
      from: 'h@p.example',
      to: ['a@p.example'],
    };
    expect(
      channelInput(channelFormOf({ ...base, kind: 'mqtt', config: mqtt } as NotificationChannel)),
    ).toEqual({
      name: 'c',
      kind: 'mqtt',
      config: mqtt,
    });
    expect(
      channelInput(channelFormOf({ ...base, kind: 'email', config: mail } as NotificationChannel)).config,
    ).toEqual(mail);
    const slack = channelFormOf({
      ...base,
      kind: 'slack',
      config: { host: 'hooks.slack.com' },
    } as NotificationChannel);
    expect(channelInput(slack).config).toEqual({ url: '' }); // an empty URL keeps the stored one
  });
});
