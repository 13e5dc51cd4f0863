/** Export: alerts as CSV, an alert as a zip bundle, the printable shift report. */
export * from './csv.js';
export * from './shift-report.js';
export * from './zip.js';
