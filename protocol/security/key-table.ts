// The keys the rig knows, and which of them to try for a secured frame, most likely first.

import { copyBytes } from '../bytes.ts';
import { checkKey } from './aes.ts';
import type { AuxHeader, KeyId } from './aux-header.ts';
import { installCodeToLinkKey } from './install-code.ts';
import { KEYED_HASH_INPUT, keyedHash } from './mmo.ts';

/** The well-known default trust-centre link key "ZigBeeAlliance09" (public, not a secret). */
export const ZIGBEE_ALLIANCE_09 = new TextEncoder().encode('ZigBeeAlliance09');

interface NetworkKeyEntry {
  key: Uint8Array;
  seq?: number;
}

interface LinkKeyEntry {
  key: Uint8Array;
  /** Partner IEEE, 8 bytes LE as on air. */
  partner?: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The keyed-hash input that derives the key for each APS key id, when one is derived. */
const DERIVATION: Partial<Record<KeyId, number>> = {
  'key-transport': KEYED_HASH_INPUT.keyTransport,
  'key-load': KEYED_HASH_INPUT.keyLoad,
};

const NONE: readonly Uint8Array[] = Object.freeze([]);

/**
 * Keys the rig knows. Keys are secrets: nothing here prints them (toString, JSON and
 * util.inspect show counts only), and the fields are private.
 */
export class KeyTable {
  #network: NetworkKeyEntry[] = [];
  #link: LinkKeyEntry[] = [];
  #trustCentre?: Uint8Array;
  /** candidates() answers per network key sequence number, dropped whenever the keys change. */
  #networkCache = new Map<number | undefined, readonly Uint8Array[]>();
  /** Link candidates and their derivations per keyed-hash input, while no key is bound to a partner (so the sender does not matter). */
  #linkCache?: readonly Uint8Array[];
  #derivedCache = new Map<number, readonly Uint8Array[]>();
  /** Keyed hashes of the stored link keys (private copies, never changed in place), per input. */
  #derivedKeys = new WeakMap<Uint8Array, Map<number, Uint8Array>>();

  addNetworkKey(key: Uint8Array, seq?: number): void {
    this.learnNetworkKey(key, seq);
  }

  /** Adds a network key (e.g. from a decrypted Transport Key); true when it was not known. */
  learnNetworkKey(key: Uint8Array, seq?: number): boolean {
    checkKey(key);
    const known = this.#network.find((e) => sameBytes(e.key, key));
    if (known) {
      if (seq !== undefined && known.seq !== seq) {
        known.seq = seq;
        this.#networkCache.clear();
      }
      return false;
    }
    this.#network.push(seq === undefined ? { key: copyBytes(key) } : { key: copyBytes(key), seq });
    this.#networkCache.clear();
    return true;
  }

  /** A link key, optionally bound to the partner's IEEE (8 bytes LE as on air). */
  addLinkKey(key: Uint8Array, partnerLE?: Uint8Array): void {
    checkKey(key);
    if (partnerLE && partnerLE.length !== 8) throw new Error(`a partner IEEE address has 8 bytes, got ${partnerLE.length}`);
    const partner = partnerLE && copyBytes(partnerLE);
    const dup = this.#link.some(
      (e) => sameBytes(e.key, key) && (e.partner && partner ? sameBytes(e.partner, partner) : e.partner === partner),
    );
    if (!dup) this.#link.push(partner ? { key: copyBytes(key), partner } : { key: copyBytes(key) });
    this.#linksChanged();
  }

  /** A link key from an install code (the CRC is checked). */
  addInstallCode(code: Uint8Array, partnerLE?: Uint8Array): void {
    this.addLinkKey(installCodeToLinkKey(code), partnerLE);
  }

  setTrustCentreLinkKey(key: Uint8Array): void {
    checkKey(key);
    this.#trustCentre = copyBytes(key);
    this.#linksChanged();
  }

  #linksChanged(): void {
    this.#linkCache = undefined;
    this.#derivedCache.clear();
  }

  get size(): { network: number; link: number; trustCentre: boolean } {
    return { network: this.#network.length, link: this.#link.length, trustCentre: this.#trustCentre !== undefined };
  }

  /**
   * Keys to try for a secured frame, most likely first. NWK frames use only network keys
   * (those with the frame's key sequence number first). APS frames use the key id's table:
   * link keys (bound to the sender first, then the trust-centre key, then the rest), or for
   * key-transport / key-load the keyed hash of each of those. `sourceLE` stands in for
   * aux.source when the frame has no extended nonce. The list is shared between calls
   * (frozen): copy it to change it.
   */
  candidates(aux: AuxHeader, layer: 'nwk' | 'aps', sourceLE?: Uint8Array): readonly Uint8Array[] {
    if (aux.keyId === 'network') return this.#networkCandidates(aux.keySeq);
    // ZigBee PRO secures the NWK layer with the network key only: anything else cannot decrypt.
    if (layer === 'nwk') return NONE;
    const input = DERIVATION[aux.keyId];
    if (this.#link.every((e) => e.partner === undefined)) {
      // No partner-bound keys: the answer does not depend on the sender, so it is kept.
      const links = (this.#linkCache ??= Object.freeze(this.#linkCandidates(undefined)));
      if (input === undefined) return links;
      let derived = this.#derivedCache.get(input);
      if (derived === undefined) {
        derived = Object.freeze(links.map((k) => this.#derived(k, input)));
        this.#derivedCache.set(input, derived);
      }
      return derived;
    }
    const links = this.#linkCandidates(aux.source ?? sourceLE);
    return input === undefined ? links : links.map((k) => this.#derived(k, input));
  }

  /** keyedHash(k, input) for a stored key, computed once. */
  #derived(k: Uint8Array, input: number): Uint8Array {
    let byInput = this.#derivedKeys.get(k);
    if (byInput === undefined) {
      byInput = new Map();
      this.#derivedKeys.set(k, byInput);
    }
    let d = byInput.get(input);
    if (d === undefined) {
      d = keyedHash(k, input);
      byInput.set(input, d);
    }
    return d;
  }

  #networkCandidates(seq?: number): readonly Uint8Array[] {
    let out = this.#networkCache.get(seq);
    if (out === undefined) {
      // Matching sequence number first, then unknown ones, then the rest (a stale sequence is a finding, not a reason not to decrypt).
      const rank = (e: NetworkKeyEntry) => (e.seq === seq ? 0 : e.seq === undefined ? 1 : 2);
      out = Object.freeze([...this.#network].sort((a, b) => rank(a) - rank(b)).map((e) => e.key));
      // A frame can carry any of 256 sequence numbers: the cache stays that small.
      this.#networkCache.set(seq, out);
    }
    return out;
  }

  #linkCandidates(sender?: Uint8Array): Uint8Array[] {
    const bound = sender ? this.#link.filter((e) => e.partner && sameBytes(e.partner, sender)) : [];
    const out: Uint8Array[] = [];
    const push = (k: Uint8Array) => {
      if (!out.some((o) => sameBytes(o, k))) out.push(k);
    };
    for (const e of bound) push(e.key);
    if (this.#trustCentre) push(this.#trustCentre);
    for (const e of this.#link) if (!e.partner) push(e.key);
    for (const e of this.#link) if (e.partner && !bound.includes(e)) push(e.key);
    return out;
  }

  toString(): string {
    const s = this.size;
    return `KeyTable(${s.network} network, ${s.link} link, trust-centre ${s.trustCentre ? 'set' : 'unset'}; keys redacted)`;
  }

  toJSON(): object {
    return { ...this.size, keys: 'redacted' };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
