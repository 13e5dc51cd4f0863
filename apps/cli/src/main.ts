import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  // Every error reaches the operator as one clear line; a stack only with HARK_DEBUG=1.
  const message = err instanceof Error ? err.message : String(err);
  console.error(`hark: ${message}`);
  if (process.env.HARK_DEBUG === '1' && err instanceof Error) console.error(err.stack);
  process.exitCode = 1;
}
