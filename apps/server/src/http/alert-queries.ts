import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  ALERT_SORTS,
  ALERT_STATES,
  ANNOTATION_LABELS,
  MAX_ALERT_SEARCH_LENGTH,
  MAX_ALERT_SEARCH_TERMS,
  SORT_ORDERS,
} from '@hark/protocol';

/**
 * The OpenAPI parameters of the alert list's filters and order, shared by the list, an alert's neighbours
 * and the CSV export (one description, parsed by `parseAlertQuery`).
 */
export const AlertListQueries = () =>
  applyDecorators(
    ApiQuery({ name: 'sensorId', required: false, schema: { type: 'string' } }),
    ApiQuery({
      name: 'state',
      required: false,
      description: `comma-separated: ${ALERT_STATES.join(', ')}`,
      schema: { type: 'string' },
    }),
    ApiQuery({ name: 'kind', required: false, schema: { type: 'string', enum: [...ALERT_KINDS] } }),
    ApiQuery({ name: 'severity', required: false, schema: { type: 'string', enum: [...ALERT_SEVERITIES] } }),
    ApiQuery({
      name: 'label',
      required: false,
      description: 'alerts with an annotation of this label',
      schema: { type: 'string', enum: [...ANNOTATION_LABELS] },
    }),
    ApiQuery({
      name: 'group',
      required: false,
      description:
        "a label group: alerts of sensors carrying every label, as key:value pairs separated by commas, e.g. 'site:plant-a,line:2'",
      schema: { type: 'string' },
    }),
    ApiQuery({
      name: 'q',
      required: false,
      description: `words that must each appear in the alert's notes (case-insensitive substrings; at most ${MAX_ALERT_SEARCH_TERMS} words)`,
      schema: { type: 'string', maxLength: MAX_ALERT_SEARCH_LENGTH },
    }),
    ApiQuery({
      name: 'from',
      required: false,
      description: 'ms since the epoch',
      schema: { type: 'integer' },
    }),
    ApiQuery({ name: 'to', required: false, description: 'ms since the epoch', schema: { type: 'integer' } }),
    ApiQuery({
      name: 'sort',
      required: false,
      description:
        'the column to order by (ties by id); without it: open first, then acknowledged, then resolved, newest first',
      schema: { type: 'string', enum: Object.keys(ALERT_SORTS) },
    }),
    ApiQuery({
      name: 'order',
      required: false,
      description: `with sort; default per column: ${Object.entries(ALERT_SORTS)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      schema: { type: 'string', enum: [...SORT_ORDERS] },
    }),
  );
