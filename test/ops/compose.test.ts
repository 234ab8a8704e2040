import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.ts';

// No Docker engine runs here: the deployment files are checked for structure and references.
const docker = (file: string) => fileURLToPath(new URL(`../../docker/${file}`, import.meta.url));
const root = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  ports?: string[];
  volumes?: string[];
  restart?: string;
}

const compose = parse(readFileSync(docker('compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;

/** Compose's variable interpolation: `${X:-default}` → default, `${X:?message}` → a test value, `${X}` → the test value. */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind: string | undefined, rest: string) => given[name] ?? (kind === '-' ? rest : `test-${name}`));
}

describe('docker/compose.yaml', () => {
  it('runs two gateway replicas with PostgreSQL, Redis, a collector with a trace backend, and Prometheus', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'jaeger', 'migrate', 'otel-collector', 'postgres', 'prometheus', 'redis']);
    expect(services.gateway!.deploy?.replicas).toBe(2);
    for (const [name, service] of Object.entries(services)) {
      expect(service.image ?? service.build, `${name} has an image or a build`).toBeTruthy();
      if (service.build) {
        expect(existsSync(fileURLToPath(new URL(`${service.build.context}/${service.build.dockerfile}`, new URL('../../docker/', import.meta.url)))), `${name}'s Dockerfile exists`).toBe(true);
      }
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(docker(source)), `${name} mounts ${source}`).toBe(true);
        else expect(compose.volumes, `${name} uses the named volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it('starts the replicas only after the migrations ran once, on a healthy database and Redis', () => {
    const migrate = services.migrate!;
    expect(migrate.command).toEqual(['node', 'src/cli/migrate.ts']);
    expect(existsSync(root('src/cli/migrate.ts'))).toBe(true);
    expect(migrate.restart).toBe('no');
    expect(migrate.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(services.gateway!.depends_on).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services, `${name} depends on a defined service`).toHaveProperty(dependency);
        if (condition === 'service_healthy') expect(services[dependency]!.healthcheck, `${dependency} has a healthcheck`).toBeDefined();
      }
    }
    expect(services.gateway!.healthcheck?.test.join(' ')).toContain('/ready');
  });

  it('gives the gateway a configuration that the config module accepts, pointing at services that exist', () => {
    for (const name of ['gateway', 'migrate'] as const) {
      const env = Object.fromEntries(Object.entries(services[name]!.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), { JWT_PRIVATE_KEY: 'a-pem-key' })]));
      const config = loadConfig(env);
      expect(config.env).toBe('production');
      expect(new URL(config.database.url!).hostname).toBe('postgres');
      expect(new URL(config.redisUrl!).hostname).toBe('redis');
      expect(config.telemetry.otlpEndpoint).toBeDefined();
      expect(services).toHaveProperty(new URL(config.telemetry.otlpEndpoint!).hostname);
      expect(config.http).toMatchObject({ host: '0.0.0.0', port: 4000 });
    }
    // The required secret has no default: compose refuses to start without it.
    expect(services.gateway!.environment?.JWT_PRIVATE_KEY).toMatch(/^\$\{JWT_PRIVATE_KEY:\?/);
    expect(services.gateway!.ports).toEqual(['4000-4001:4000']);
  });

  it('wires traces to the trace backend and metrics scraping to the gateway replicas', () => {
    const collector = parse(readFileSync(docker('otel-collector.yaml'), 'utf8')) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    };
    expect(collector.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
    expect(services.gateway!.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toMatch(/:4318$/);
    for (const exporter of collector.service.pipelines.traces.exporters) {
      expect(services).toHaveProperty(collector.exporters[exporter]!.endpoint.split(':')[0]!);
    }
    const prometheus = parse(readFileSync(docker('prometheus.yml'), 'utf8')) as { scrape_configs: { metrics_path: string; dns_sd_configs: { names: string[]; port: number }[] }[] };
    const [job] = prometheus.scrape_configs;
    expect(job!.metrics_path).toBe('/metrics');
    expect(job!.dns_sd_configs[0]).toMatchObject({ names: ['gateway'], port: 4000 });
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = readFileSync(docker('Dockerfile'), 'utf8');
  it('is multi-stage on Node 24 slim, installs production dependencies only, runs as a non-root user with a HEALTHCHECK', () => {
    expect(dockerfile.match(/^FROM node:24-slim AS \w+$/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^COPY --from=deps /m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd).toEqual(['node', '--import', './src/platform/telemetry/register.ts', 'src/main.ts']);
    for (const file of cmd.filter((part) => part.endsWith('.ts'))) expect(existsSync(root(file))).toBe(true);
  });
});
