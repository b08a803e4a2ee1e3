// Exact amounts with openapi-fetch (the README's recipe): answers are parsed with lossless-json, so
// a JSON number keeps every digit (987654321098765.43 stays 987654321098765.43, not
// 987654321098765.4); requests are written with its stringify, which writes a LosslessNumber's text.
import { isInteger, isSafeNumber, LosslessNumber, parse, stringify } from "lossless-json";

/** A money value the docs show as a JSON number: exact (integers that fit a double stay numbers). */
export type DecimalNumber = LosslessNumber | number;
/** A money value the docs show as a JSON string. */
export type DecimalString = string;
/** A money value whose JSON type the docs' editions disagree on. */
export type Decimal = DecimalNumber | DecimalString;

/** Numbers with a fraction or beyond 2^53 as LosslessNumber; small integers (counts, years) as numbers. */
export function parseExact(text: string): unknown {
  return parse(text, null, (value) =>
    isInteger(value) && isSafeNumber(value) ? Number(value) : new LosslessNumber(value),
  );
}

/** A request body, numbers written with every digit. */
export function stringifyExact(body: unknown): string {
  return stringify(body) ?? "null";
}

/**
 * A money value as openapi-fetch hands it out: its answer types map every object type field by
 * field (a LosslessNumber's methods become `{}`), so read the digits from the `value` field.
 */
export type ExactValue = string | number | { readonly value: string; readonly isLosslessNumber: boolean };

/** The decimal text of a money value, exactly as P100 sent it. */
export function text(value: Decimal | ExactValue): string {
  return typeof value === "object" ? value.value : String(value);
}

/** A fetch whose answers' `.json()` is lossless: what openapi-fetch calls to read a body. */
export const exactFetch = async (request: Request): Promise<Response> => {
  const answer = await fetch(request);
  const body = await answer.text();
  const exact = new Response(body, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  Object.defineProperty(exact, "json", { value: async () => (body === "" ? undefined : parseExact(body)) });
  return exact;
};
