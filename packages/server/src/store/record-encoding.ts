import type { AdapterPayload } from 'oidc-provider';

/**
 * How the Redis adapter stores one oidc-provider record: a plain string
 *
 *     <flags><consumed>|<JSON>
 *
 * - `flags`: `k` when the payload's `kind` is the model name and `j` when its `jti` is the record
 *   id; both are then left out of the JSON and put back on read (the key already says them).
 * - `consumed`: the epoch seconds of consume(), digits, empty while unconsumed. Kept outside the
 *   JSON so that the Lua scripts consume and keep it without parsing the payload.
 * - `JSON`: the rest of the payload, as JSON.stringify writes it.
 *
 * A string rather than a hash: a hash whose payload field is longer than Redis' 64-byte listpack
 * limit is stored as a real hash table, which costs ~300 bytes per record more. Releases before
 * this one wrote hashes (`payload`, `consumed`, `grantId`, `uid`, `userCode`); those are still read
 * ({@link decodeLegacyRecord}) and replaced by a string on their next save.
 */

/** The string stored for `payload` of `model` record `id`; `consumed` is stored apart (prefix). */
export function encodeRecord(
  model: string,
  id: string,
  payload: AdapterPayload,
): { flags: string; json: string } {
  const { kind, jti, consumed: _consumed, ...rest } = payload as AdapterPayload & Record<string, unknown>;
  let flags = '';
  const body: Record<string, unknown> = rest;
  if (kind !== undefined) {
    if (kind === model) flags += 'k';
    else body.kind = kind;
  }
  if (jti !== undefined) {
    if (jti === id) flags += 'j';
    else body.jti = jti;
  }
  return { flags, json: JSON.stringify(body) };
}

/** The payload of a stored string (see the module comment), or undefined when it is not one. */
export function decodeRecord(model: string, id: string, stored: string): AdapterPayload | undefined {
  const bar = stored.indexOf('|');
  if (bar < 0) return undefined;
  const prefix = stored.slice(0, bar);
  const payload = JSON.parse(stored.slice(bar + 1)) as AdapterPayload;
  if (prefix.includes('k')) payload.kind = model;
  if (prefix.includes('j')) payload.jti = id;
  const consumed = prefix.replace(/[kj]/g, '');
  if (consumed !== '') payload.consumed = Number(consumed);
  return payload;
}

/** The payload of a hash written by releases before the string encoding. */
export function decodeLegacyRecord(payload: string, consumed: string | null | undefined): AdapterPayload {
  const record = JSON.parse(payload) as AdapterPayload;
  if (consumed !== null && consumed !== undefined) record.consumed = Number(consumed);
  return record;
}
