// The load generator of `npm run bench`: wrk (Debian's package; C, one epoll loop per thread, LuaJIT
// for per-request variation), so that the generator is not the bottleneck the way autocannon, a Node
// process on the same cores, was (issue 11). Each run gets a generated Lua script holding the
// pre-generated request variants of one shape; wrk picks one at random per request, checks every
// response's status (and, unless disabled, its body), and prints one JSON line at the end. The
// generator's own CPU time is read from /proc for every run, so a run where wrk, not the server, was
// saturated can be refused (see {@link generatorSaturated}).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One request variant: the bearer token and the JSON body. */
export interface RequestVariant {
  readonly token: string;
  readonly body: string;
}

/** What one generated script sends and how it judges the answers. */
export interface RequestSet {
  readonly variants: readonly RequestVariant[];
  /**
   * When set, every variant's body contains this text once and each request replaces it by a key
   * unique to the run, `<prefix><thread>-<counter>` (the prefix is {@link runWrk}'s `keyPrefix`):
   * S3's fresh idempotency keys.
   */
  readonly uniquePlaceholder?: string;
  /** A 2xx answer counts only if its body contains this and no `"errors"` (when bodies are checked). */
  readonly successMarker: string;
}

/** One wrk run: counts, rates per second, latencies in ms, the generator's CPU in seconds. */
export interface WrkResult {
  /** Responses received (any status). */
  readonly responses: number;
  /** 2xx responses whose body passed the check (all 2xx when bodies are not checked). */
  readonly good: number;
  readonly non2xx: number;
  /** 2xx responses without the success marker or with `"errors"` (0 when bodies are not checked). */
  readonly badBodies: number;
  /** Good responses that say they were served from the response cache (`"hit":true` in `extensions.responseCache`). */
  readonly cacheHits: number;
  /** Socket-level failures as wrk counts them. */
  readonly socketErrors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
  /** The first failed response (status and the start of its body), if any. */
  readonly firstError: string | undefined;
  /** wrk's measured duration in seconds. */
  readonly seconds: number;
  readonly latencyMs: { readonly mean: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** User + system CPU seconds of the wrk process (all its threads) over the run, from /proc. */
  readonly generatorCpuSeconds: number;
  readonly threads: number;
  readonly connections: number;
}

/**
 * The saturation rule: a run is invalid when the generator used at least `limit` (default 0.9) of a
 * core per wrk thread on average over the run, i.e. generatorCpuSeconds ≥ limit × threads × seconds.
 * wrk's threads are independent event loops with the same number of connections each, so their
 * load is even; a thread that is busy 90 % of the time is no longer waiting on the server, and the
 * figure would measure wrk. Returns the share (0–1 per thread) and the verdict.
 */
export function generatorSaturated(result: Pick<WrkResult, 'generatorCpuSeconds' | 'threads' | 'seconds'>, limit = 0.9): { share: number; saturated: boolean } {
  const share = result.generatorCpuSeconds / (result.threads * result.seconds);
  return { share, saturated: !(share < limit) };
}

/**
 * Makes sure `wrk` is on PATH. When it is missing and this runs as root on a Debian/Ubuntu system,
 * installs Debian's package (`apt-get install -y wrk`, after an `apt-get update` if the first try
 * fails); otherwise throws with the command to run.
 * @throws Error when wrk is missing and cannot be installed here.
 */
export function ensureWrk(log: (line: string) => void): string {
  const found = () => spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  let probe = found();
  if (!probe.error) return `${probe.stdout}${probe.stderr}`.split('\n')[0]!.trim();
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) throw new Error('wrk is not installed: run `apt-get install -y wrk` (Debian/Ubuntu) or put a wrk binary on PATH');
  log('wrk missing: apt-get install -y wrk');
  let install = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (install.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    install = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  probe = found();
  if (install.status !== 0 || probe.error) throw new Error('apt-get install -y wrk failed');
  return `${probe.stdout}${probe.stderr}`.split('\n')[0]!.trim();
}

/** A Lua long-string literal of `text` (no escaping needed: the level is chosen not to occur in it). */
function luaString(text: string): string {
  let level = 0;
  while (text.includes(`]${'='.repeat(level)}]`)) level += 1;
  const eq = '='.repeat(level);
  // A long string drops a first newline; bodies never start with one, but keep it exact anyway.
  return `[${eq}[${text.startsWith('\n') ? '\n' : ''}${text}]${eq}]`;
}

/**
 * Writes the wrk script of one request set to `dir/<name>.lua` and returns its path. The variants
 * are pre-formatted into complete HTTP requests per thread at start (request() only picks one);
 * with a unique placeholder, the body is assembled per request instead (one concatenation).
 */
export async function writeWrkScript(dir: string, name: string, set: RequestSet, options: { checkBodies: boolean }): Promise<string> {
  const split = set.uniquePlaceholder
    ? set.variants.map((v) => {
        const at = v.body.indexOf(set.uniquePlaceholder!);
        if (at < 0 || v.body.indexOf(set.uniquePlaceholder!, at + 1) >= 0) throw new Error('the placeholder must occur once in every body');
        return [v.body.slice(0, at), v.body.slice(at + set.uniquePlaceholder!.length)] as const;
      })
    : undefined;
  const lua = `-- Generated by bench/lib/wrk.ts for one run of npm run bench; not edited by hand.
local tokens = {
${set.variants.map((v) => `  ${luaString(v.token)},`).join('\n')}
}
${
  split
    ? `local heads = {
${split.map(([head]) => `  ${luaString(head)},`).join('\n')}
}
local tails = {
${split.map(([, tail]) => `  ${luaString(tail)},`).join('\n')}
}
local key_prefix = ""`
    : `local bodies = {
${set.variants.map((v) => `  ${luaString(v.body)},`).join('\n')}
}`
}
local marker = ${luaString(set.successMarker)}
local check_bodies = ${options.checkBodies ? 'true' : 'false'}
local threads = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  -- The key prefix of this run (S3), passed after \`--\` on wrk's command line.
  if args[1] then key_prefix = args[1] end
  -- Globals: done() reads them through thread:get().
  non2xx = 0
  bad_bodies = 0
  good = 0
  cache_hits = 0
  first_error = ""
  counter = 0
  math.randomseed(tid * 7919 + os.time())
  headers = {}
  -- wrk.format uses a headers table given to it instead of wrk.headers, so repeat Content-Type
  -- (servers that follow GraphQL over HTTP, grafserv and Fastify, refuse a body without it).
  for i = 1, #tokens do headers[i] = { ["Content-Type"] = "application/json", Authorization = "Bearer " .. tokens[i] } end
  ${split ? '' : `prepared = {}
  for i = 1, #tokens do prepared[i] = wrk.format(nil, nil, headers[i], bodies[i]) end`}
end

function request()
  local i = math.random(#tokens)
  ${
    split
      ? `counter = counter + 1
  return wrk.format(nil, nil, headers[i], heads[i] .. key_prefix .. tid .. "-" .. counter .. tails[i])`
      : 'return prepared[i]'
  }
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  elseif check_bodies and (not string.find(body, marker, 1, true) or string.find(body, '"errors"', 1, true)) then
    bad_bodies = bad_bodies + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  else
    good = good + 1
    -- Ordergraph's response cache says so in extensions.responseCache (src/graphql/response-cache.ts).
    if string.find(body, '"hit":true', 1, true) then cache_hits = cache_hits + 1 end
  end
end

-- Quotes, backslashes and control characters become ' so the text is a valid JSON string.
local function json_string(s)
  return '"' .. (string.gsub(s, '[%c"\\\\]', "'")) .. '"'
end

function done(summary, latency, requests)
  local n, b, g, h, first = 0, 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    h = h + thread:get("cache_hits")
    n = n + thread:get("non2xx")
    b = b + thread:get("bad_bodies")
    g = g + thread:get("good")
    if first == "" then first = thread:get("first_error") end
  end
  local e = summary.errors
  io.write(string.format('WRK_JSON {"responses":%d,"good":%d,"non2xx":%d,"badBodies":%d,"durationUs":%d,' ..
    '"cacheHits":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"meanUs":%.1f,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"firstError":%s}\\n',
    summary.requests, g, n, b, summary.duration, h, e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, json_string(first)))
end
`;
  const file = join(dir, `${name}.lua`);
  await writeFile(file, lua);
  return file;
}

/**
 * Runs wrk against `url` with `script` for `seconds` and returns its figures. wrk runs as the child
 * of a `sh` that, once wrk has exited and been waited for, prints its own /proc stat: the
 * `cutime`/`cstime` fields then hold exactly wrk's CPU time (all threads, whole run).
 * @throws Error when wrk fails to run or prints no result line.
 */
export async function runWrk(options: { url: string; script: string; seconds: number; threads: number; connections: number; timeoutSeconds?: number; keyPrefix?: string }): Promise<WrkResult> {
  const args = ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.seconds}s`, '--timeout', `${options.timeoutSeconds ?? 30}s`, '-s', options.script, options.url];
  if (options.keyPrefix) args.push('--', options.keyPrefix);
  const child = spawn('/bin/sh', ['-c', 'wrk "$@"; rc=$?; echo "SH_STAT $(cat /proc/$$/stat)"; exit $rc', 'sh', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const line = /^WRK_JSON (.*)$/m.exec(stdout)?.[1];
  const stat = /^SH_STAT (.*)$/m.exec(stdout)?.[1];
  if (code !== 0 || !line || !stat) throw new Error(`wrk failed (exit ${code}):\n${stdout.slice(-2_000)}\n${stderr}`);
  const r = JSON.parse(line) as Record<string, number> & { firstError: string };
  // Fields after the command name: state is index 0, utime 11, stime 12, cutime 13, cstime 14 (USER_HZ ticks).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const generatorCpuSeconds = (Number(fields[13]) + Number(fields[14])) / 100;
  const ms = (us: number) => us / 1_000;
  return {
    responses: r.responses!,
    good: r.good!,
    non2xx: r.non2xx!,
    badBodies: r.badBodies!,
    cacheHits: r.cacheHits ?? 0,
    socketErrors: { connect: r.connect!, read: r.read!, write: r.write!, timeout: r.timeout! },
    firstError: r.firstError || undefined,
    seconds: r.durationUs! / 1e6,
    latencyMs: { mean: ms(r.meanUs!), p50: ms(r.p50Us!), p90: ms(r.p90Us!), p99: ms(r.p99Us!), max: ms(r.maxUs!) },
    generatorCpuSeconds,
    threads: options.threads,
    connections: options.connections,
  };
}
