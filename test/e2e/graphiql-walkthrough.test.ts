import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../ops/support/gateway.ts';
import { freePort } from '../support/net.ts';

/**
 * The README's "Try it in GraphiQL" walkthrough, done as a newcomer does it: `npm start` on the
 * embedded database, Debian's Chromium, GraphiQL's own editors (pasted into, like a user copying
 * from the README), two browser tabs. The operations are read from the README, so the test follows
 * it as written. Screenshots: test-results/graphiql-walkthrough/.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results', 'graphiql-walkthrough');
/** The issue's bound for the GraphiQL page on the wire (it is ~9 MB uncompressed). */
const MAX_PAGE_BYTES_ON_WIRE = 3_000_000;
/** Bound of each wait in the browser: start-up of the page and the embedded database on a busy CI machine. */
const STEP_MS = 60_000;

/** The README's operations by name, as written, and the Headers pane text it gives. */
function readme(): { operations: Map<string, string>; headers: string } {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('## Try it in GraphiQL'), text.indexOf('### API conventions'));
  const operations = new Map<string, string>();
  for (const [, block] of section.matchAll(/```graphql\n([\s\S]*?)```/g)) {
    const name = /^(?:query|mutation|subscription) (\w+)/m.exec(block!)?.[1];
    if (name) operations.set(name, block!.trim());
  }
  const headers = /`(\{ "Authorization": "Bearer <accessToken>" \})`/.exec(section)?.[1];
  if (!headers) throw new Error('the README no longer shows the Headers pane text');
  return { operations, headers };
}

/** `npm start`, exactly as a user runs it, on a fresh embedded database. */
interface NpmStart {
  readonly origin: string;
  stop(): Promise<void>;
}

async function npmStart(): Promise<NpmStart> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ordergraph-walkthrough-'));
  const port = await freePort();
  // Only what a user's shell has: no DATABASE_URL (the embedded default), no NODE_ENV (development).
  const env: Record<string, string> = {
    PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? tmpdir(),
    DATA_DIR: dataDir,
    PORT: String(port),
  };
  // Its own process group, so stopping it reaches npm, its shell and the server alike.
  const child: ChildProcess = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let serverPid: number | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const serving = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not serve within ${STEP_MS * 2} ms:\n${output.slice(-4_000)}`)), STEP_MS * 2);
    void exited.then(() => reject(new Error(`npm start exited:\n${output.slice(-4_000)}`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      for (const line of chunk.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; pid?: number };
          if (entry.msg === 'Ordergraph is serving') {
            serverPid = entry.pid;
            clearTimeout(timer);
            resolve();
          }
        } catch {
          // a partial line: the "serving" line is short and arrives whole
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  });
  const stop = async () => {
    const alive = (pid: number | undefined) => {
      if (pid === undefined) return false;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    await eventually(() => !alive(serverPid) && (child.exitCode !== null || child.signalCode !== null), 30_000, 100, 'npm start to exit').catch(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await serving;
  } catch (error) {
    await stop();
    throw error;
  }
  // The README's address (localhost), on the port given to this run.
  return { origin: `http://localhost:${port}`, stop };
}

/** What a page did wrong: failed requests, HTTP errors, console errors, uncaught exceptions. */
function watch(page: Page, problems: string[], label: string): void {
  page.on('requestfailed', (request) => problems.push(`${label}: request failed: ${request.method()} ${request.url().slice(0, 200)} ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${label}: HTTP ${response.status()} for ${response.request().method()} ${response.url().slice(0, 200)}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${label}: console error: ${message.text().slice(0, 500)}`);
  });
  page.on('pageerror', (error) => problems.push(`${label}: uncaught: ${error.message}`));
}

/** Replaces an editor's content as a user does: click into it, select all, paste. */
async function paste(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.evaluate((value) => navigator.clipboard.writeText(value), text);
  await page.keyboard.press('ControlOrMeta+V');
}

const queryEditor = (page: Page) => page.locator('.graphiql-query-editor');
const headersEditor = (page: Page) => page.locator('.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:visible');
const runButton = (page: Page) => page.locator('.graphiql-execute-button');

/** Presses Run once the editor's operation is the one named (GraphiQL names its tab after it). */
async function run(page: Page, operationName: string): Promise<void> {
  await page.locator('.graphiql-tab-active').getByText(operationName, { exact: true }).waitFor({ timeout: STEP_MS });
  await runButton(page).click();
}

/** The result pane's text without whitespace, as the page shows it. */
const shownResult = (page: Page) => page.locator('.graphiql-response').evaluate((element) => (element.textContent ?? '').replace(/\s+/g, ''));

/** Waits until the result pane shows `needle` (compared without whitespace). */
async function waitForResult(page: Page, needle: string): Promise<void> {
  await page.waitForFunction((text) => (document.querySelector('.graphiql-response')?.textContent ?? '').replace(/\s+/g, '').includes(text), needle.replace(/\s+/g, ''), { timeout: STEP_MS });
}

/** Copies the result pane as a user does (select all, copy) and parses it. */
async function copyResult<T>(page: Page): Promise<T> {
  await page.locator('.graphiql-response .monaco-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+C');
  return JSON.parse(await page.evaluate(() => navigator.clipboard.readText())) as T;
}

interface FollowEvent {
  data?: { orderStatusChanged: { version: number; from: string | null; to: string; actor: string | null; order: { id: string; status: string; statusHistory: { to: string }[] } } };
  errors?: unknown[];
}

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('the README GraphiQL walkthrough in a real browser', () => {
  let server: NpmStart;
  let context: BrowserContext;
  let userDataDir: string;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    server = await npmStart();
    userDataDir = await mkdtemp(join(tmpdir(), 'ordergraph-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await server?.stop();
  }, 60_000);

  it('signs in, queries, follows the orders live and sees the order PAID, then SHIPPED', async () => {
    const { operations, headers } = readme();
    const op = (name: string) => {
      const text = operations.get(name);
      if (!text) throw new Error(`the README has no ${name} operation`);
      return text;
    };
    const problems: string[] = [];

    // The first browser tab: GraphiQL as `npm start` serves it.
    const follow = context.pages()[0] ?? (await context.newPage());
    watch(follow, problems, 'first tab');
    const loaded: Promise<{ url: string; bytes: number; encoding: string | null }>[] = [];
    const onLoad = (request: Request) => {
      if (!request.url().startsWith('http')) return;
      loaded.push(
        Promise.all([request.sizes(), request.response()]).then(async ([sizes, response]) => ({
          url: request.url(),
          bytes: sizes.responseHeadersSize + sizes.responseBodySize,
          encoding: (await response?.headerValue('content-encoding')) ?? null,
        })),
      );
    };
    follow.on('requestfinished', onLoad);
    const opened = await follow.goto(`${server.origin}/graphql`);
    expect(opened?.status()).toBe(200);
    await queryEditor(follow).waitFor({ timeout: STEP_MS });
    await follow.locator('.graphiql-tab-active').getByText('SignIn', { exact: true }).waitFor({ timeout: STEP_MS });
    await follow.screenshot({ path: join(SHOTS, '01-graphiql-opened.png') });

    // Sign in: Run, choose SignIn; the token goes into the Headers pane.
    await runButton(follow).click();
    await follow.getByRole('menuitem', { name: 'SignIn', exact: true }).click();
    await waitForResult(follow, '"accessToken"');
    const signedIn = await copyResult<{ data: { signIn: { auth: { accessToken: string; customer: { tier: string } } } } }>(follow);
    const token = signedIn.data.signIn.auth.accessToken;
    expect(signedIn.data.signIn.auth.customer.tier).toBe('PREMIUM');
    await follow.getByRole('button', { name: 'Headers', exact: true }).click();
    await paste(follow, headersEditor(follow), headers.replace('<accessToken>', token));
    await follow.screenshot({ path: join(SHOTS, '02-signed-in-token-in-headers.png') });

    // The catalog: Run, choose Products.
    await runButton(follow).click();
    await follow.getByRole('menuitem', { name: 'Products', exact: true }).click();
    await waitForResult(follow, '"totalCount"');
    const products = await copyResult<{ data: { products: { edges: { node: { id: string; price: { amount: string } } }[] } } }>(follow);
    const product = products.data.products.edges[0]!.node;
    await follow.screenshot({ path: join(SHOTS, '03-products.png') });

    // The page came compressed: the issue's bound on the wire, for everything the browser loaded.
    follow.off('requestfinished', onLoad);
    const wire = await Promise.all(loaded);
    const onWire = wire.reduce((sum, r) => sum + r.bytes, 0);
    const html = wire[0]!;
    console.info(`GraphiQL load: ${wire.length} responses, ${onWire} bytes on the wire (the page: ${html.bytes} bytes, ${html.encoding ?? 'identity'})`);
    expect(new URL(html.url).pathname).toBe('/graphql');
    expect(html.encoding).toMatch(/^(br|gzip)$/);
    expect(onWire).toBeLessThan(MAX_PAGE_BYTES_ON_WIRE);

    // The subscription, in this tab; it runs until stopped (Run became Stop).
    await paste(follow, queryEditor(follow), op('Follow'));
    await run(follow, 'Follow');
    // Running (Run became Stop), or refused (an error in the result pane): whichever shows first.
    await follow.waitForFunction(
      () => document.querySelector('.graphiql-execute-button')?.getAttribute('aria-label')?.startsWith('Stop') || (document.querySelector('.graphiql-response')?.textContent ?? '').includes('"errors"'),
      undefined,
      { timeout: STEP_MS },
    );
    expect(await shownResult(follow)).not.toContain('"errors"');
    expect(await runButton(follow).getAttribute('aria-label')).toMatch(/^Stop/);
    // The server holds the stream (the gauge counts it) before anything is ordered.
    await eventually(async () => /^ordergraph_graphql_active_subscriptions 1$/m.test(await (await fetch(`${server.origin}/metrics`)).text()), STEP_MS, 100, 'the subscription to be active on the server');
    await follow.screenshot({ path: join(SHOTS, '04-following.png') });

    // A second browser tab: GraphiQL opens a new tab there that already carries the Headers.
    const act = await context.newPage();
    watch(act, problems, 'second tab');
    await act.goto(`${server.origin}/graphql`);
    await queryEditor(act).waitFor({ timeout: STEP_MS });
    await act.getByRole('button', { name: 'Headers', exact: true }).click();
    await act.waitForFunction((expected) => [...document.querySelectorAll('.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor')].some((e) => (e.textContent ?? '').replace(/\s+/g, '').includes(expected)), token, { timeout: STEP_MS });

    // Place the order there, as the README's mutation with a real product id and a fresh key.
    const place = op('Place').replace(/"UHJvZHVjdDo…"/, JSON.stringify(product.id)).replace(/idempotencyKey: "[^"]+"/, `idempotencyKey: "${crypto.randomUUID()}"`);
    await paste(act, queryEditor(act), place);
    await run(act, 'Place');
    await waitForResult(act, '"PlaceOrderSuccess"');
    const placed = await copyResult<{ data: { placeOrder: { order: { id: string; status: string; version: number } } } }>(act);
    const orderId = placed.data.placeOrder.order.id;
    expect(placed.data.placeOrder.order).toMatchObject({ status: 'PAID', version: 2 });
    await act.screenshot({ path: join(SHOTS, '05-second-tab-order-placed.png') });

    // Back in the first tab: the PAID event, with the trail PENDING, PAID.
    await follow.bringToFront();
    await waitForResult(follow, '"version": 2, "from": "PENDING", "to": "PAID"');
    await follow.screenshot({ path: join(SHOTS, '06-first-tab-subscription-paid.png') });
    const paid = await copyResult<FollowEvent>(follow);
    expect(paid.errors).toBeUndefined();
    expect(paid.data?.orderStatusChanged).toMatchObject({ version: 2, from: 'PENDING', to: 'PAID', order: { id: orderId, status: 'PAID' } });
    expect(paid.data?.orderStatusChanged.order.statusHistory.map((change) => change.to)).toEqual(['PENDING', 'PAID']);

    // Ship it as the admin, in the second tab.
    await act.bringToFront();
    const adminSignIn = op('SignIn').replace('premium@ordergraph.dev', 'admin@ordergraph.dev').replace('demo-pass-premium', 'admin-demo-pass');
    await paste(act, queryEditor(act), adminSignIn);
    await run(act, 'SignIn');
    await waitForResult(act, '"accessToken"');
    const admin = await copyResult<{ data: { signIn: { auth: { accessToken: string } } } }>(act);
    await paste(act, headersEditor(act), headers.replace('<accessToken>', admin.data.signIn.auth.accessToken));
    await paste(act, queryEditor(act), op('Ship').replace(/"T3JkZXI6…"/, JSON.stringify(orderId)));
    await run(act, 'Ship');
    await waitForResult(act, '"UpdateOrderStatusSuccess"');
    expect(await shownResult(act)).toContain('"status":"SHIPPED"');

    await follow.bringToFront();
    await waitForResult(follow, '"version": 3, "from": "PAID", "to": "SHIPPED"');
    await follow.screenshot({ path: join(SHOTS, '07-first-tab-subscription-shipped.png') });
    const shipped = await copyResult<FollowEvent>(follow);
    expect(shipped.data?.orderStatusChanged.order.statusHistory.map((change) => change.to)).toEqual(['PENDING', 'PAID', 'SHIPPED']);

    // Nothing failed on the way (taken before closing, which aborts the running subscription).
    expect(problems).toEqual([]);
  }, 300_000);

  it('lets no other site make the browser send GraphQL: form posts, no-cors fetch and EventSource are refused (403)', async () => {
    const target = `${server.origin}/graphql`;
    const signUp = (email: string) => `mutation { signUp(input: { email: "${email}", name: "Mallory", password: "mallory-pass-1" }) { __typename } }`;
    const attack = `<!doctype html><title>elsewhere</title>
      <form method="POST" action="${target}"><input type="hidden" name="query" value='${signUp('csrf-form@example.com')}'></form>
      <script>
        fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(JSON.stringify({ query: signUp('csrf-fetch@example.com') }))} });
        new EventSource(${JSON.stringify(`${target}?query=${encodeURIComponent('subscription { orderStatusChanged { to } }')}`)});
      </script>`;
    // Another origin: another port on 127.0.0.1, where the walkthrough uses localhost.
    const site = createServer((_, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(attack));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const page = await context.newPage();
    try {
      const statuses = new Map<string, number>();
      page.on('response', (response) => {
        if (response.url().startsWith(target)) statuses.set(`${response.request().method()} ${response.request().headers()['content-type'] ?? response.request().headers()['accept'] ?? ''}`, response.status());
      });
      await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
      await eventually(() => statuses.size === 2, STEP_MS, 50, 'the fetch and the EventSource to be answered');
      const [submitted] = await Promise.all([page.waitForResponse((response) => response.url() === target && response.request().method() === 'POST' && response.request().resourceType() === 'document'), page.locator('form').evaluate((form: HTMLFormElement) => form.submit())]);
      expect(submitted.status()).toBe(403);
      expect(((await submitted.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('CSRF_HEADER_REQUIRED');
      expect(Object.fromEntries(statuses)).toEqual({ 'POST text/plain': 403, 'GET text/event-stream': 403, 'POST application/x-www-form-urlencoded': 403 });
    } finally {
      await page.close();
      // The browser keeps its connections to the site open.
      site.closeAllConnections();
      await new Promise((resolve) => site.close(resolve));
    }
    // Neither sign-up happened.
    for (const email of ['csrf-form@example.com', 'csrf-fetch@example.com']) {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `mutation { signIn(input: { email: "${email}", password: "mallory-pass-1" }) { __typename } }` }),
      });
      expect(((await response.json()) as { data: { signIn: { __typename: string } } }).data.signIn.__typename, email).toBe('InvalidCredentialsError');
    }
  }, 120_000);
});
