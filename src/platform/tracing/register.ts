// OpenTelemetry tracing, loaded before the app with `node --import`
// (npm start and npm run worker do so): instrumentations patch pg, ioredis
// and http when those are loaded, so this must run first. ioredis is an ES
// import of a CommonJS package, which only import-in-the-middle's loader hook
// sees; pg and http are patched through require hooks.
// Without OTEL_EXPORTER_OTLP_ENDPOINT (or with an invalid configuration,
// which the entry point reports) nothing is loaded.
import { loadConfig, type Config } from '../../config.ts';

let config: Config | undefined;
try {
  config = loadConfig();
} catch {
  // The entry point reports every configuration problem.
}

if (config?.OTEL_EXPORTER_OTLP_ENDPOINT) {
  const { startTracing } = await import('./sdk.ts');
  startTracing(config);
}
