import pg from 'pg';
import { eventually } from '../../support/eventually.ts';
import { freePort } from '../../support/net.ts';
import { generateJwtKey, startGateway, type Gateway } from '../../ops/support/gateway.ts';
import { startPrivateRedis, type PrivateRedis } from '../../ops/support/redis-server.ts';
import { createScratchDatabase } from '../../support/database.ts';

/** One database of its own on a real PostgreSQL server, created empty (the first instance migrates it). */
export interface ChaosDatabase {
  readonly url: string;
  /** A pool for the harness's own reads (the order log at the end, counts during the run). */
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * Creates `og_chaos_<random>` on the server of `adminUrl`; `close()` drops it (with force: the
 * instances may still hold connections when a failed run tears down).
 */
export async function createChaosDatabase(adminUrl: string): Promise<ChaosDatabase> {
  const name = await createScratchDatabase(adminUrl, 'og_chaos');
  const target = new URL(adminUrl);
  target.pathname = `/${name}`;
  const url = target.toString();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    url,
    pool,
    async close() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** One gateway slot of the cluster: a fixed port, and the process currently serving it (if any). */
export interface Instance {
  readonly index: number;
  readonly port: number;
  /** http://127.0.0.1:<port>/graphql */
  readonly url: string;
  /** Bumped at every start: a connection remembers the generation it was made to. */
  generation: number;
  /** Whether the harness routes new requests and connections here (started and ready, not killed). */
  routable: boolean;
  gateway: Gateway | undefined;
}

/** A SIGKILL the harness sent: which process (instance, generation) and when (epoch ms). */
export interface Kill {
  readonly index: number;
  readonly generation: number;
  readonly at: number;
}

/** Three (or `size`) gateway processes on one database and one private Redis, and the chaos done to them. */
export interface Cluster {
  readonly instances: readonly Instance[];
  readonly redis: PrivateRedis;
  readonly kills: Kill[];
  /** Redis outages the harness caused, [stoppedAt, startedAt] (epoch ms). */
  readonly redisOutages: [number, number | undefined][];
  /**
   * The next routable instance, round robin: what a load balancer that health-checks its backends
   * hands a new request or connection. Throws when none is routable.
   */
  pick(): Instance;
  /** SIGKILLs the process of instance `index` (no drain, no goodbye) and waits for its exit. */
  kill(index: number): Promise<void>;
  /** Starts instance `index` again on its port and waits until `/ready` answers 200. */
  start(index: number): Promise<void>;
  restartRedis(downMs: number): Promise<void>;
  /** Stops every instance (SIGTERM) and Redis. */
  stop(): Promise<void>;
}

/**
 * Starts `size` instances on `databaseUrl`: instance 0 first (it migrates and loads the demo data),
 * then the others side by side. `env` goes on top of each instance's environment.
 */
export async function startCluster(databaseUrl: string, size: number, env: Record<string, string>): Promise<Cluster> {
  const redis = await startPrivateRedis();
  const jwtKey = generateJwtKey();
  const instances: Instance[] = [];
  for (let index = 0; index < size; index += 1) {
    const port = await freePort();
    instances.push({ index, port, url: `http://127.0.0.1:${port}/graphql`, generation: 0, routable: false, gateway: undefined });
  }
  const kills: Kill[] = [];
  const redisOutages: [number, number | undefined][] = [];
  let turn = 0;

  const start = async (index: number) => {
    const instance = instances[index]!;
    instance.generation += 1;
    instance.gateway = await startGateway(
      {
        ...env,
        PORT: String(instance.port),
        DATABASE_URL: databaseUrl,
        JWT_PRIVATE_KEY: jwtKey,
        REDIS_URL: redis.url,
        // Only the first start of the first instance loads the demo data (it is idempotent, but
        // three instances racing to insert the same rows would log conflicts for nothing).
        SEED_DEMO_DATA: String(index === 0 && instance.generation === 1),
      },
      { startTimeoutMs: 60_000 },
    );
    await eventually(async () => (await fetch(new URL('/ready', instance.url))).status === 200, { timeoutMs: 30_000, intervalMs: 100, what: `instance ${index} to be ready` });
    instance.routable = true;
  };

  await start(0);
  await Promise.all(instances.slice(1).map((instance) => start(instance.index)));

  return {
    instances,
    redis,
    kills,
    redisOutages,
    pick() {
      for (let tries = 0; tries < instances.length; tries += 1) {
        const instance = instances[turn++ % instances.length]!;
        if (instance.routable) return instance;
      }
      throw new Error('no routable instance');
    },
    async kill(index) {
      const instance = instances[index]!;
      const gateway = instance.gateway;
      if (!gateway) return;
      instance.routable = false;
      kills.push({ index, generation: instance.generation, at: Date.now() });
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      instance.gateway = undefined;
    },
    start,
    async restartRedis(downMs) {
      const outage: [number, number | undefined] = [Date.now(), undefined];
      redisOutages.push(outage);
      await redis.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await redis.start();
      outage[1] = Date.now();
    },
    async stop() {
      for (const instance of instances) instance.routable = false;
      await Promise.all(instances.map((instance) => instance.gateway?.stop(10_000)));
      await redis.stop();
    },
  };
}
