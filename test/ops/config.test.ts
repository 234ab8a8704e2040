import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('operations configuration', () => {
  it('defaults to one in-process instance, a 25 s shutdown grace, metrics on, and tracing without export', () => {
    expect(loadConfig({})).toMatchObject({
      redisUrl: undefined,
      shutdownGraceMs: 25_000,
      readinessTimeoutMs: 2_000,
      metrics: { enabled: true },
      telemetry: { enabled: true, serviceName: 'ordergraph', otlpEndpoint: undefined },
    });
  });

  it('reads Redis, the grace, metrics and the standard OpenTelemetry variables', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://cache:6379/0',
      SHUTDOWN_GRACE_MS: '5000',
      METRICS_ENABLED: 'false',
      OTEL_SDK_DISABLED: 'true',
      OTEL_SERVICE_NAME: 'ordergraph-eu',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    });
    expect(config).toMatchObject({
      redisUrl: 'redis://cache:6379/0',
      shutdownGraceMs: 5_000,
      metrics: { enabled: false },
      telemetry: { enabled: false, serviceName: 'ordergraph-eu', otlpEndpoint: 'http://collector:4318' },
    });
  });

  it('samples every trace outside production and 10 % in production, keeping failed and ≥ 1 s traces; the standard OTEL_TRACES_SAMPLER replaces that', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db:5432/og', JWT_PRIVATE_KEY: 'pem' };
    expect(loadConfig({}).telemetry.sampling).toEqual({ ratio: 1, slowMs: 1_000 });
    expect(loadConfig(production).telemetry.sampling).toEqual({ ratio: 0.1, slowMs: 1_000 });
    expect(loadConfig({ ...production, TRACE_SAMPLE_RATIO: '0.25', TRACE_SLOW_MS: '500' }).telemetry.sampling).toEqual({ ratio: 0.25, slowMs: 500 });
    expect(loadConfig({ ...production, TRACE_SAMPLE_RATIO: '0.25', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }).telemetry.sampling).toBeUndefined();
  });

  it('refuses a sampler the SDK does not implement, a ratio outside 0–1, and a sampler argument without a sampler', () => {
    try {
      loadConfig({ OTEL_TRACES_SAMPLER: 'jaeger_remote', TRACE_SAMPLE_RATIO: '1.5', TRACE_SLOW_MS: '-1' });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.split(' ')[0]).sort()).toEqual(['OTEL_TRACES_SAMPLER', 'TRACE_SAMPLE_RATIO', 'TRACE_SLOW_MS']);
    }
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '0.5' })).toThrow(/OTEL_TRACES_SAMPLER_ARG applies only with OTEL_TRACES_SAMPLER/);
  });

  it('names every invalid operations variable in one error', () => {
    try {
      loadConfig({ REDIS_URL: 'http://cache:6379', SHUTDOWN_GRACE_MS: '-1', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', METRICS_ENABLED: 'perhaps', READINESS_TIMEOUT_MS: '0' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const named = (error as ConfigError).problems.map((p) => p.split(' ')[0]).sort();
      expect(named).toEqual(['METRICS_ENABLED', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'READINESS_TIMEOUT_MS', 'REDIS_URL', 'SHUTDOWN_GRACE_MS']);
    }
  });
});
