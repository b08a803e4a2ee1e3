// A webhook handler typed from the OpenAPI 3.1 rendering (spec/p100.openapi-3.1.json), whose
// `webhooks:` openapi-typescript turns into one payload type per kind. `tsc --strict` proves:
// every kind of the file has a handler (the object below must name them all), every payload is an
// object type (not `unknown` or `never`: `AllTyped` fails otherwise), and each handler reads its
// kind's documented fields with their types.
import { ExchangeStatusValues, type components, type webhooks } from "./p100-31.js";
import { text } from "./decimal.js";

export type Kind = keyof webhooks;
export type Payload<K extends Kind> = NonNullable<webhooks[K]["post"]["requestBody"]>["content"]["application/json"];

type IsObject<T> = unknown extends T ? false : [T] extends [never] ? false : T extends object ? true : false;
type AllTyped = { [K in Kind]: IsObject<Payload<K>> }[Kind];
const allTyped: AllTyped = true;
// `true extends AllTyped` alone would pass for `boolean`: no kind may be `false`.
const noneUntyped: false extends AllTyped ? never : true = true;
void allTyped;
void noneUntyped;

// Open value sets stay open and keep their known values: a listed status and a new one both fit,
// and the generated constant lists the known ones.
type ExchangeStatus = components["schemas"]["ExchangeStatus"];
const listed: ExchangeStatus = "COMPLETED";
const added: ExchangeStatus = "A_STATUS_P100_ADDS_LATER";
export const KNOWN_EXCHANGE_STATUSES: readonly ExchangeStatus[] = ExchangeStatusValues;
void [listed, added];

const status = (value: string | undefined): string => value ?? "(no status)";
const fields = (p: Record<string, unknown>): string => `fields [${Object.keys(p).sort().join(", ")}]`;

const handlers: { [K in Kind]: (payload: Payload<K>) => string } = {
  user_balance_generation: (p) => `${p.externalUserId}: ${p.status}`,
  kyc_file_added: (p) => `${p.externalUserId}: ${p.status}`,
  poa_verification_status: (p) => `${p.externalUserId ?? "?"}: ${status(p.status)}`,
  kyc_verification_status: (p) => `${p.externalUserId}: ${p.verificationStatus}/${p.attemptStatus} ${p.rejectionReason ?? ""}`,
  create_wallet: (p) => fields(p),
  p2p_transfer: (p) => `${p.id} ${text(p.amount)} ${p.currency} ${p.status}`,
  partner_sepa_transfer: (p) => `${p.id ?? "?"} ${p.amount === undefined ? "" : text(p.amount)} ${status(p.status)}`,
  user_sepa_transfer: (p) => `${p.id} ${p.amount === undefined ? "" : text(p.amount)} ${p.status}`,
  sepa_deposit: (p) => fields(p),
  iban_status: (p) => status(p.status),
  crypto_withdrawal: (p) => `${p.id} ${p.amount === undefined ? "" : text(p.amount)} ${p.status}`,
  crypto_deposit: (p) => `${p.cryptoDepositId} ${text(p.amount)} ${p.currency} ${p.status}`,
  exchange: (p) =>
    `${p.exchangeId ?? "?"} ${status(p.status)}${p.status && KNOWN_EXCHANGE_STATUSES.includes(p.status) ? "" : " (a status the spec does not list)"}`,
  card_transaction: (p) => fields(p),
  order_status: (p) => `${p.orderId ?? "?"} ${status(p.status)}`,
  payment_link: (p) => `${p.paymentLinkId ?? "?"} ${status(p.status)}`,
  card_3ds_code: (p) => `${p.externalUserId ?? "?"} code ${p.code ?? "?"}`,
  card_activation_code: (p) => `${p.cardId ?? "?"} code ${p.code ?? "?"}`,
};

export const KINDS = Object.keys(handlers) as Kind[];

export function isKind(kind: string): kind is Kind {
  return (KINDS as string[]).includes(kind);
}

/** Handles a delivery of `kind`; its body was parsed with the lossless parser. */
export function handle<K extends Kind>(kind: K, body: unknown): string {
  const handler = handlers[kind] as (payload: Payload<K>) => string;
  return handler(body as Payload<K>);
}
