/**
 * RFC 9591 FROST signing equations (§4, §5) over the group interface. Pure functions; the
 * session in sign.ts drives them. Points handed in here are already validated.
 */
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { mod } from '../group/group.js';
import type { Point } from '../group/index.js';
import { concat } from '../math/hash.js';
import { lagrangeCoefficient } from '../math/polynomial.js';
import type { Rng } from '../math/rng.js';
import type { Suite } from './suite.js';

/** One signer's public nonce commitments. */
export interface SignerCommitment {
  readonly identifier: bigint;
  readonly hiding: Point;
  readonly binding: Point;
}

/**
 * A signer's secret nonces. Single-use: {@link signShare} consumes them (zeroes the bytes and
 * marks them used); a second use throws.
 */
export class SigningNonces {
  private readonly bytes: Uint8Array;
  private used = false;
  constructor(
    private readonly suite: Suite,
    hiding: bigint,
    binding: bigint,
  ) {
    const g = suite.group;
    const h = g.encodeScalar(hiding);
    const b = g.encodeScalar(binding);
    // Written straight into the nonce buffer; the encoding temporaries are zeroed.
    this.bytes = new Uint8Array(h.length + b.length);
    this.bytes.set(h, 0);
    this.bytes.set(b, h.length);
    h.fill(0);
    b.fill(0);
  }
  /** Returns the scalars and consumes the nonces. Throws `InvalidStateError` on a second call. */
  consume(): { hiding: bigint; binding: bigint } {
    if (this.used) throw new InvalidStateError('signing nonces were already used');
    this.used = true;
    const g = this.suite.group;
    const n = g.scalarLength;
    const out = { hiding: g.decodeScalar(this.bytes.subarray(0, n)), binding: g.decodeScalar(this.bytes.subarray(n)) };
    this.bytes.fill(0);
    return out;
  }
  /** Zeroes the nonces without using them. */
  dispose(): void {
    this.used = true;
    this.bytes.fill(0);
  }
  get isUsed(): boolean {
    return this.used;
  }
}

/**
 * RFC 9591 §4.1 nonce_generate: H3(random_bytes(32) ‖ SerializeScalar(secret)). Throws
 * `InvalidArgumentError` if the secret is out of range.
 */
export function generateNonce(suite: Suite, secret: bigint, rng: Rng): bigint {
  const r = rng(32);
  const s = suite.group.encodeScalar(secret);
  const input = concat(r, s); // holds the secret share (s_i + δ): zeroed below
  try {
    return suite.H3(input);
  } finally {
    input.fill(0);
    r.fill(0);
    s.fill(0);
  }
}

/**
 * RFC 9591 §5.1 commit: fresh nonces and their commitments. Throws `InvalidArgumentError` if the
 * share is out of range.
 */
export function commit(
  suite: Suite,
  secretShare: bigint,
  rng: Rng,
): { nonces: SigningNonces; hiding: Point; binding: Point } {
  const hiding = generateNonce(suite, secretShare, rng);
  const binding = generateNonce(suite, secretShare, rng);
  const g = suite.group;
  return { nonces: new SigningNonces(suite, hiding, binding), hiding: g.baseMul(hiding), binding: g.baseMul(binding) };
}

/** Everything derived from the commitment list, shared by signers and verifiers. */
export interface SigningPackage {
  /** Commitments sorted by identifier. */
  readonly commitments: readonly SignerCommitment[];
  readonly identifiers: readonly bigint[];
  readonly bindingFactors: ReadonlyMap<bigint, bigint>;
  readonly groupCommitment: Point;
  readonly challenge: bigint;
  readonly groupPublicKey: Point;
  readonly groupPublicKeyBytes: Uint8Array;
}

/** RFC 9591 §4.3 encode_group_commitment_list over sorted commitments. Does not throw for validated points. */
export function encodeCommitmentList(suite: Suite, sorted: readonly SignerCommitment[]): Uint8Array {
  const g = suite.group;
  return concat(
    ...sorted.flatMap((c) => [g.encodeScalar(c.identifier), g.encodePoint(c.hiding), g.encodePoint(c.binding)]),
  );
}

/** RFC 9591 §4.4 binding-factor input prefix: SerializeElement(PK) ‖ H4(msg) ‖ H5(encoded commitments). */
export function bindingFactorPrefix(
  suite: Suite,
  pkBytes: Uint8Array,
  sorted: readonly SignerCommitment[],
  msg: Uint8Array,
): Uint8Array {
  return concat(pkBytes, suite.H4(msg), suite.H5(encodeCommitmentList(suite, sorted)));
}

/**
 * Computes binding factors, group commitment and challenge (RFC 9591 §4.4–4.6).
 * Throws `InvalidArgumentError` on duplicate identifiers.
 */
export function prepareSigning(
  suite: Suite,
  groupPublicKey: Point,
  commitments: readonly SignerCommitment[],
  msg: Uint8Array,
): SigningPackage {
  const g = suite.group;
  const sorted = [...commitments].sort((a, b) =>
    a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0,
  );
  const identifiers = sorted.map((c) => c.identifier);
  if (new Set(identifiers).size !== identifiers.length) throw new InvalidArgumentError('duplicate signer identifiers');
  const pkBytes = g.encodePoint(groupPublicKey);
  const prefix = bindingFactorPrefix(suite, pkBytes, sorted, msg);
  const bindingFactors = new Map<bigint, bigint>();
  for (const c of sorted) bindingFactors.set(c.identifier, suite.H1(concat(prefix, g.encodeScalar(c.identifier))));
  let R = g.identity;
  for (const c of sorted) R = g.add(R, g.add(c.hiding, g.mul(c.binding, bindingFactors.get(c.identifier)!)));
  const challenge = suite.H2(concat(g.encodePoint(R), pkBytes, msg));
  return {
    commitments: sorted,
    identifiers,
    bindingFactors,
    groupCommitment: R,
    challenge,
    groupPublicKey,
    groupPublicKeyBytes: pkBytes,
  };
}

/**
 * RFC 9591 §5.2 sign: z_i = d_i + e_i·ρ_i + λ_i·s_i·c. Consumes the nonces.
 * Throws `InvalidArgumentError` if the signer is not in the package, `InvalidStateError` if the
 * nonces were already used.
 */
export function signShare(
  suite: Suite,
  pkg: SigningPackage,
  identifier: bigint,
  secretShare: bigint,
  nonces: SigningNonces,
): bigint {
  const n = suite.group.order;
  const rho = pkg.bindingFactors.get(identifier);
  if (rho === undefined) throw new InvalidArgumentError('signer is not in the commitment list');
  const { hiding, binding } = nonces.consume();
  const lambda = lagrangeCoefficient(suite.group, pkg.identifiers, identifier);
  return mod(hiding + mod(binding * rho, n) + mod(mod(lambda * secretShare, n) * pkg.challenge, n), n);
}

/**
 * RFC 9591 §5.4 verify_signature_share: z_i·G == D_i + ρ_i·E_i + (c·λ_i)·Y_i. Returns false (never
 * throws) for a signer outside the package.
 */
export function verifyShare(
  suite: Suite,
  pkg: SigningPackage,
  identifier: bigint,
  verifyingShare: Point,
  z: bigint,
): boolean {
  const g = suite.group;
  const c = pkg.commitments.find((x) => x.identifier === identifier);
  const rho = pkg.bindingFactors.get(identifier);
  if (!c || rho === undefined) return false;
  const lambda = lagrangeCoefficient(g, pkg.identifiers, identifier);
  const lhs = g.baseMul(z);
  const rhs = g.add(
    g.add(c.hiding, g.mul(c.binding, rho)),
    g.mul(verifyingShare, mod(pkg.challenge * lambda, g.order)),
  );
  return g.equals(lhs, rhs);
}

/**
 * RFC 9591 §5.3 aggregate: (R, Σ z_i) encoded as R ‖ z. Throws `InvalidArgumentError` if R is an
 * identity without encoding (secp256k1).
 */
export function aggregate(suite: Suite, pkg: SigningPackage, shares: readonly bigint[]): Uint8Array {
  const g = suite.group;
  let z = 0n;
  for (const s of shares) z = mod(z + s, g.order);
  return concat(g.encodePoint(pkg.groupCommitment), g.encodeScalar(z));
}

/**
 * Verifies a Schnorr/Ed25519 signature R ‖ z under `publicKey`: z·G == R + H2(R ‖ PK ‖ msg)·PK.
 * R must decode as a valid prime-order point and z must be reduced. Returns false otherwise.
 */
export function verifySignature(suite: Suite, publicKey: Point, msg: Uint8Array, sig: Uint8Array): boolean {
  const g = suite.group;
  if (sig.length !== g.pointLength + g.scalarLength) return false;
  let R: Point;
  let z: bigint;
  try {
    R = g.decodePoint(sig.subarray(0, g.pointLength));
    z = g.decodeScalar(sig.subarray(g.pointLength));
  } catch {
    return false;
  }
  const c = suite.H2(concat(sig.subarray(0, g.pointLength), g.encodePoint(publicKey), msg));
  return g.equals(g.baseMul(z), g.add(R, g.mul(publicKey, c)));
}
