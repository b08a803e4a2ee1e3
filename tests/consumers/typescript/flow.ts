// One flow through openapi-fetch with types generated from spec/p100.yaml by openapi-typescript,
// against the sandbox (started by tests/consumers/run.sh with a manual clock): partner balances,
// create a user, fund it (internal transfer, waited), user balances, lock + exchange (waited to
// COMPLETED), SEPA transfer and crypto withdrawal (each waited), transaction history; every
// amount compared exactly with what the sandbox holds (`/__sandbox/state`). Then every webhook the
// sandbox emitted during the flow goes through the typed handler of webhooks.ts.
// Usage: node out/flow.js BASE_URL API_KEY
import createClient from "openapi-fetch";
import { LosslessNumber } from "lossless-json";
import type { paths } from "./p100.js";
import { exactFetch, parseExact, stringifyExact, text, type Decimal, type ExactValue } from "./decimal.js";
import { handle, isKind } from "./webhooks.js";

const [base, key] = process.argv.slice(2) as [string, string];
const USER = "ts-consumer-1";
const FINAL = new Set(["COMPLETED", "SUCCESSFUL", "FAILED", "UNSUCCESSFUL", "REJECTED", "CANCELLED"]);
const client = createClient<paths>({
  baseUrl: base,
  headers: { "x-api-key": key },
  fetch: exactFetch,
  bodySerializer: stringifyExact,
});

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** Exact decimal arithmetic on decimal texts, in units of 10^-18. */
const SCALE = 18;
function units(value: Decimal | ExactValue): bigint {
  const s = text(value);
  check(/^-?\d+(\.\d+)?$/.test(s), `plain decimal: ${s}`);
  const negative = s.startsWith("-");
  const [whole = "0", fraction = ""] = s.replace("-", "").split(".");
  check(fraction.length <= SCALE, `at most ${SCALE} places: ${s}`);
  const n = BigInt(whole + fraction.padEnd(SCALE, "0"));
  return negative ? -n : n;
}

async function admin(path: string, body?: unknown): Promise<any> {
  const answer = await fetch(`${base}/__sandbox/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return parseExact(await answer.text());
}

async function held(currency: string, user?: string): Promise<string> {
  const state = await admin("state");
  const holder = user === undefined ? state.partner : state.users.find((u: any) => u.externalUserId === user);
  return holder.balances[currency];
}

function ok<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  check(result.data !== undefined, `${what}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  return result.data;
}

/** The first poll must see the movement in flight; after the clock passes the settle delay it must be final. */
async function wait(what: string, poll: () => Promise<string>): Promise<string> {
  const first = await poll();
  check(!FINAL.has(first), `${what}: final before any time passed (${first})`);
  await admin("advance", { seconds: 5 });
  for (let i = 0; i < 3; i++) {
    const status = await poll();
    if (FINAL.has(status)) {
      console.log(`${what}: ${first} -> ${status}`);
      return status;
    }
  }
  throw new Error(`${what}: not final after the settle delay`);
}

async function userAmount(name: string): Promise<Decimal | ExactValue> {
  const user = ok(await client.GET("/v1/user/balances/{externalUserId}", { params: { path: { externalUserId: USER } } }), "user balances");
  const rows = [...(user.fiatBalances ?? []), ...(user.cryptoBalances ?? [])].filter((b) => b.name === name);
  check(rows.length === 1 && rows[0] !== undefined, `one ${name} balance`);
  return rows[0].amount;
}

// The recipe itself: the digits and trailing zeros plain JSON.parse loses, both ways.
const sample = parseExact('{"big": 987654321098765.43, "fee": 500.00, "year": 2026}') as { big: Decimal; fee: Decimal; year: number };
check(text(sample.big) === "987654321098765.43" && text(sample.fee) === "500.00" && sample.year === 2026, "lossless parse");
check(String(JSON.parse("987654321098765.43")) !== "987654321098765.43", "plain JSON.parse loses digits");
check(stringifyExact({ amount: new LosslessNumber("987654321098765.43") }) === '{"amount":987654321098765.43}', "lossless write");

// Partner balances, exactly what the sandbox holds; rates (JSON numbers) keep every digit.
const partner = ok(await client.GET("/v1/partner/balances"), "partner balances");
check(partner.cryptoBalances && partner.cryptoBalances.length > 0, "crypto balances");
for (const b of partner.cryptoBalances) {
  check(units(b.amount) === units(await held(b.name)), `${b.name} ${text(b.amount)}`);
  if (b.rate !== undefined) check(b.rate instanceof LosslessNumber, `${b.name} rate read losslessly`);
}
console.log(`partner balances: ${partner.cryptoBalances.length} crypto, exact`);

// A user, funded by an internal transfer (waited).
const created = ok(await client.POST("/v1/user/balances/crypto-and-fiat", { body: { externalUserId: USER } }), "user");
console.log(`user created: ${created.userId}`);
const fund = "1234.56";
const eurBefore = await held("eur");
const transfer = ok(await client.POST("/v1/transfer", { body: { destinationExternalUserId: USER, amount: fund, currency: "eur" } }), "transfer");
const transferStatus = await wait("internal transfer", async () =>
  String(ok(await client.GET("/v1/transfer/details/{transferId}", { params: { path: { transferId: transfer.transferId } } }), "transfer").status),
);
check(transferStatus === "SUCCESSFUL", transferStatus);
check(units(await held("eur")) === units(eurBefore) - units(fund), "partner debited exactly");
check(units(await held("eur", USER)) === units(fund), "user credited exactly");
check(units(await userAmount("eur")) === units(fund), "user balance as held");
console.log(`user balances: eur ${text(await userAmount("eur"))}`);

// Lock + exchange EUR -> BTC (the amount a JSON number, written with every digit), waited.
const lock = ok(await client.GET("/v1/exchange/get-lock/{externalUserId}", { params: { path: { externalUserId: USER } } }), "lock");
const exchange = ok(await client.POST("/v1/exchange", {
  body: { sourceExternalUserId: USER, amount: new LosslessNumber("100.25"), currencyFrom: "eur", currencyTo: "btc", lockId: lock.id },
}), "exchange");
const exchangeStatus = await wait("exchange", async () =>
  String(ok(await client.GET("/v1/exchange/details/{exchangeId}", { params: { path: { exchangeId: exchange.exchangeId } } }), "exchange").status),
);
check(exchangeStatus === "COMPLETED", exchangeStatus);
const btc = await held("btc", USER);
check(units(btc) > 0n && units(await userAmount("btc")) === units(btc), "btc as held");
check(units(await userAmount("eur")) === units(await held("eur", USER)), "eur as held");
console.log(`exchange: sold eur 100.25, user holds btc ${btc}`);

// SEPA transfer (waited).
const eur = await held("eur", USER);
const sepa = ok(await client.POST("/v1/sepa-transfer", {
  body: { sourceExternalUserId: USER, currency: "eur", amount: "10.00", destinationIban: "DE89370400440532013000", transferTitle: "consumer test" },
}), "SEPA transfer");
const sepaStatus = await wait("SEPA transfer", async () =>
  String(ok(await client.GET("/v1/sepa-transfer/details/{transferId}", { params: { path: { transferId: sepa.transferId } } }), "SEPA").status),
);
check(sepaStatus === "SUCCESSFUL" || sepaStatus === "COMPLETED", sepaStatus);
const sepaDetails = ok(await client.GET("/v1/sepa-transfer/details/{transferId}", { params: { path: { transferId: sepa.transferId } } }), "SEPA");
check(units(sepaDetails.amount) === units("10.00"), "SEPA amount");
check(units(await held("eur", USER)) < units(eur) - units("10.00") + 1n, "SEPA debited with its fee");
check(units(await userAmount("eur")) === units(await held("eur", USER)), "eur as held after SEPA");
console.log(`SEPA transfer: ${sepaStatus}, user eur ${await held("eur", USER)}`);

// Crypto withdrawal of a quarter of the BTC (waited).
const out = (units(btc) / 4n / 10n ** 10n) * 10n ** 10n; // 8 places
const outText = `${out / 10n ** 18n}.${(out % 10n ** 18n).toString().padStart(18, "0").slice(0, 8)}`;
const withdrawal = ok(await client.POST("/v1/crypto-withdrawal", {
  body: {
    sourceExternalUserId: USER, currency: "btc", amount: new LosslessNumber(outText),
    walletAddress: "tb1qconsumertestaddress0000000000000000", name: "Jane Doe", walletType: "NON_CUSTODIAL", receiverType: "NATURAL",
  },
}), "withdrawal");
const withdrawalStatus = await wait("crypto withdrawal", async () =>
  String(ok(await client.GET("/v1/crypto-withdrawal/details/{withdrawalId}", { params: { path: { withdrawalId: withdrawal.withdrawalId } } }), "withdrawal").status),
);
check(withdrawalStatus === "SUCCESSFUL" || withdrawalStatus === "COMPLETED", withdrawalStatus);
const w = ok(await client.GET("/v1/crypto-withdrawal/details/{withdrawalId}", { params: { path: { withdrawalId: withdrawal.withdrawalId } } }), "withdrawal");
check(w.amount !== undefined && units(w.amount) === units(outText), `withdrawn ${outText}`);
check(units(await userAmount("btc")) === units(await held("btc", USER)), "btc as held after the withdrawal");
console.log(`crypto withdrawal: ${withdrawalStatus}, btc ${outText}`);

// The month's history: an open object (its fields were never documented).
const now = new Date();
const history = ok(await client.GET("/v1/user/transaction-history/{externalUserId}", {
  params: { path: { externalUserId: USER }, query: { month: now.getUTCMonth() + 1, year: now.getUTCFullYear() } },
}), "history");
const moves = history["transactions"];
check(Array.isArray(moves) && moves.length >= 4, "4 transactions in the history");
console.log(`transaction history: ${moves.length} transactions`);

// Every webhook of the flow through the typed handler.
const deliveries: { kind: string; body: unknown }[] = await admin("deliveries");
let handled = 0;
for (const d of deliveries) {
  check(isKind(d.kind), `a kind of the 3.1 file: ${d.kind}`);
  const body = typeof d.body === "string" ? parseExact(d.body) : d.body;
  console.log(`webhook ${d.kind}: ${handle(d.kind, body)}`);
  handled++;
}
check(handled >= 4, `the flow's webhooks (${handled})`);
console.log("typescript flow: OK");
