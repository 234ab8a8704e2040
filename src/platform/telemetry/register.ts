// Preloaded with `node --import ./src/platform/telemetry/register.ts src/main.ts` (npm start, the
// Dockerfile), so the OpenTelemetry SDK is registered before any instrumented module is imported.
import { ConfigError, loadConfig } from '../../config.ts';
import { startTelemetry } from './sdk.ts';

try {
  startTelemetry(loadConfig().telemetry);
} catch (error) {
  // main.ts parses the same environment next and reports every problem in one message.
  if (!(error instanceof ConfigError)) throw error;
}
