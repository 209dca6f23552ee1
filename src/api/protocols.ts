/**
 * The threshold protocol a request may name (mpcium PR #106, reference §11): `ecdsa_protocol` and
 * `eddsa_protocol` in a keygen request, `protocol` in a signing or reshare request, with values
 * such as `gg18`, `cggmp21`, `frost`, `taproot`. Tessera runs one protocol per key type — DKLs23
 * for secp256k1 (ECDSA), FROST for ed25519 (EdDSA) — so a request may leave the field out (or
 * empty, or null: Go's zero value) or name the protocol Tessera runs for its key type
 * (case-insensitive); any other value is refused with `ERROR_MSG_VALIDATION` saying what Tessera
 * runs (`requests.ts`). The fields are not part of the signed bytes (PR #106 leaves them out of sign and reshare),
 * so they are checked while the request is parsed, before it is authenticated: their error is
 * published under the unauthenticated message id of the request bytes (docs/node.md).
 */
type KeyType = 'secp256k1' | 'ed25519';

/** The request fields that name a protocol. */
export type ProtocolField = 'protocol' | 'ecdsa_protocol' | 'eddsa_protocol';

/** What Tessera runs for each key type: the name a request may give, and how a reason says it. */
export const TESSERA_PROTOCOLS: Readonly<Record<KeyType, { readonly name: string; readonly label: string }>> = {
  secp256k1: { name: 'dkls23', label: 'DKLs23 for secp256k1 (ECDSA)' },
  ed25519: { name: 'frost', label: 'FROST for ed25519 (EdDSA)' },
};

/** The most of a refused value a reason repeats. */
const SHOWN_CHARS = 32;

function shown(v: string): string {
  return JSON.stringify(v.length > SHOWN_CHARS ? `${v.slice(0, SHOWN_CHARS)}…` : v);
}

/**
 * What is wrong with the protocol `value` a request names in `field` for `keyType` — `field: why;
 * what to do` — or undefined when it is absent, null, empty or Tessera's own protocol for that key
 * type. Not a string, a protocol of the other key type and one Tessera does not run are wrong (the
 * parser makes them `ERROR_MSG_VALIDATION`). Does not throw.
 */
export function protocolProblem(field: ProtocolField, value: unknown, keyType: KeyType): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const runs = `Tessera runs ${TESSERA_PROTOCOLS.secp256k1.label} and ${TESSERA_PROTOCOLS.ed25519.label}`;
  const own = TESSERA_PROTOCOLS[keyType].name;
  const problem = (why: string) => `${field}: ${why}; leave ${field} out or set it to "${own}"`;
  if (typeof value !== 'string') return problem(`must be a string (${runs})`);
  const name = value.toLowerCase();
  if (name === own) return undefined;
  const other: KeyType = keyType === 'secp256k1' ? 'ed25519' : 'secp256k1';
  if (name === TESSERA_PROTOCOLS[other].name)
    return problem(`${shown(value)} is the protocol of key type ${other}, not ${keyType} (${runs})`);
  return problem(`Tessera does not run ${shown(value)}: ${runs}`);
}
