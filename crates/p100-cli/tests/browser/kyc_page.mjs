// The hosted KYC page in a real headless browser (Debian's chromium, driven by playwright-core):
// `p100 webhooks listen` and `p100 sandbox --kyc-outcome manual` run on loopback; a user starts
// a verification; the browser opens the page P100's redirect sends the user to, clicks Approve,
// and sees the status; the KYC status answers VERIFIED and the listener printed the webhook.
//
//   node crates/p100-cli/tests/browser/kyc_page.mjs target/debug/p100
//
// Run by .ci/run (which installs chromium and playwright-core). Everything stays on 127.0.0.1.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { createRequire } from 'node:module';

// playwright-core as .ci/run installs it (npm --prefix target/ci-node); P100_NODE_PREFIX elsewhere.
const prefix = process.env.P100_NODE_PREFIX ?? join(process.cwd(), 'target/ci-node');
const { chromium } = createRequire(join(prefix, 'package.json'))('playwright-core');

const bin = process.argv[2] ?? 'target/debug/p100';
const KEY = 'browser-test-key';
const TOKEN = 'browser-test-token';
const DEADLINE_MS = 60_000;

const children = [];
const outputs = {};
function fail(message) {
  console.error(`kyc_page: FAILED: ${message}`);
  for (const [name, lines] of Object.entries(outputs)) console.error(`--- ${name}:\n${lines.join('\n')}`);
  for (const child of children) child.kill();
  process.exit(1);
}
const timer = setTimeout(() => fail('not done within the deadline'), DEADLINE_MS);
process.on('uncaughtException', (e) => fail(e.stack ?? String(e)));
process.on('unhandledRejection', (e) => fail(e?.stack ?? String(e)));

/** Starts `p100 args…`; resolves with the child and a function that waits for a line. */
function start(args, stream) {
  const child = spawn(bin, args, {
    env: { PATH: process.env.PATH, P100_CONFIG: '/nonexistent', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines = [];
  outputs[args.slice(0, 2).join(' ')] = lines;
  const waiters = [];
  for (const s of [child.stdout, child.stderr]) {
    createInterface({ input: s }).on('line', (line) => {
      lines.push(line);
      for (const w of [...waiters]) w();
    });
  }
  const line = (predicate) =>
    new Promise((resolve) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found !== undefined) {
          waiters.splice(waiters.indexOf(check), 1);
          resolve(found);
        }
      };
      waiters.push(check);
      check();
    });
  return { child, line, lines };
}

async function api(base, method, path, body) {
  const answer = await fetch(base + path, {
    method,
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) fail(`${method} ${path}: HTTP ${answer.status} ${text}`);
  return JSON.parse(text);
}

// The receiver first (a free port), then the sandbox that delivers to it.
const listener = start(['webhooks', 'listen', '--port', '0', '--token', TOKEN, '--output', 'json'], 'stdout');
const listening = await new Promise((resolve) =>
  createInterface({ input: listener.child.stderr }).on('line', (l) => {
    if (l.includes('http://')) resolve(l);
  }),
);
const receiverUrl = listening.split(/\s+/).find((w) => w.startsWith('http://'));

const sandbox = start(
  ['sandbox', '--port', '0', '--api-key', KEY, '--webhook-url', receiverUrl, '--webhook-token', TOKEN,
    '--kyc-outcome', 'manual', '--settle-after', '0.2'],
  'stdout',
);
const baseLine = await sandbox.line((l) => l.includes('base URL:'));
const base = baseLine.split(/\s+/).find((w) => w.startsWith('http://'));

const user = `browser-${Date.now()}`;
await api(base, 'POST', '/v1/user/balances/crypto-and-fiat', { externalUserId: user });
const { verificationId } = await api(base, 'POST', '/v1/kyc', {
  externalUserId: user, documentType: 'ID_CARD', country: 'PL', incomeSource: 'SALARY',
  occupation: 'IT', additionalInfo: 'I am a programmer', openAccountReason: 'DAILY_USE',
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  // Where Redirect to Verification sends the user's browser.
  await page.goto(`${base}/v1/kyc/verification/${user}/${verificationId}`);
  const title = await page.title();
  if (!title.includes('KYC verification')) fail(`title ${title}`);
  await page.click('#approve');
  await page.waitForSelector('#decided');
  const status = await page.textContent('#verification-status');
  const attempt = await page.textContent('#attempt-status');
  if (status !== 'VERIFIED' || attempt !== 'SUCCESSFUL') fail(`page shows ${status} / ${attempt}`);
  console.log(`kyc_page: the page shows ${status} / ${attempt} after the click`);
} finally {
  await browser.close();
}

const kyc = await api(base, 'GET', `/v1/kyc/status/${user}`);
if (kyc.verificationStatus !== 'VERIFIED') fail(`status ${JSON.stringify(kyc)}`);
const event = await listener.line((l) => l.includes('kyc_verification_status') && l.includes(user) && l.includes('SUCCESSFUL'));
console.log(`kyc_page: the listener received ${event}`);
console.log('kyc_page: passed');
clearTimeout(timer);
for (const child of children) child.kill();
