import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { inspect } from 'node:util';
import { test, expect } from '@playwright/test';
import fc from '../support/fast-check.ts';
import { DecodeError, Reader, Writer, fromHex, hex } from '../../protocol/bytes.ts';
import {
  Ccm,
  KeyTable,
  ZIGBEE_ALLIANCE_09,
  ccmStarDecrypt,
  ccmStarEncrypt,
  crc16x25,
  decodeAuxHeader,
  encodeAuxHeader,
  installCodeToLinkKey,
  keyedHash,
  mmoHash,
  secure,
  securityNonce,
  unsecure,
  unsecureMany,
} from '../../protocol/security.ts';
import type { AuxHeader, CcmOpening, SecuredFrame } from '../../protocol/security.ts';

const rep = (byte: string, n = 16) => byte.repeat(n);
const counting = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

test.describe('AES-MMO hash and keyed hash', () => {
  // ZigBee specification 05-3474-21 C.5.1–C.5.6; 8192 bytes and more take the 32-bit length form.
  const mmoVectors: Array<[string, Uint8Array, string]> = [
    ['C.5.1 one byte', fromHex('c0'), 'ae3a102a28d43ee0d4a09e22788b206c'],
    ['C.5.2 one block', fromHex('c0c1c2c3c4c5c6c7c8c9cacbcccdcecf'), 'a7977e88bc0b61e8210827109a228f2d'],
    ['C.5.3 8191 bytes', counting(8191), '24ec2fe75bbffcb34789bc0610e7f165'],
    ['C.5.4 8192 bytes (2^16 bits)', counting(8192), 'dc6b0687f09f8607131c170b3bd31591'],
    ['C.5.5 8201 bytes', counting(8201), '72c9b15e178aa843e4a16c58e33643a3'],
    ['C.5.6 8202 bytes', counting(8202), 'bc9828d59b2aa323daf20be5f2e66511'],
  ];
  for (const [name, input, digest] of mmoVectors) {
    test(`mmoHash ${name}`, () => {
      expect(hex(mmoHash(input))).toBe(digest);
    });
  }

  test('keyedHash: spec C.6.1 vector', () => {
    expect(hex(keyedHash(fromHex('404142434445464748494a4b4c4d4e4f'), 0xc0))).toBe('4512807bf94cb3400f0e2c25fb76e999');
  });

  test('keyedHash(key, 3) is the Verify Key hash zigator_04 frame 7 carries for link key 77…77', () => {
    expect(hex(keyedHash(fromHex(rep('77')), 0x03))).toBe('44761a20e1b77e6d6da445f80dc9bee6');
  });

  test('CRC-16/X-25 check value', () => {
    expect(crc16x25(new TextEncoder().encode('123456789'))).toBe(0x906e);
  });
});

test.describe('install codes', () => {
  const vectors: Array<[string, string]> = [
    ['55555555555555555555555555555555A9D1', '3c6047f3c55c8c8290a5839c213b6714'],
    ['66666666666666666666666666666666A603', '865eb452951420552e9fdbb3f16642ea'],
    ['83FED3407A939723A5C639B26916D505C3B5', '66b6900981e1ee3ca4206b6b861c02bb'],
  ];
  for (const [code, key] of vectors) {
    test(`install code ${code.slice(0, 8)}… → ${key.slice(0, 8)}…`, () => {
      expect(hex(installCodeToLinkKey(fromHex(code)))).toBe(key);
    });
  }

  test('a bad CRC is refused with the expected and found CRC, not the code', () => {
    const bad = fromHex('55555555555555555555555555555555AAD1');
    expect(() => installCodeToLinkKey(bad)).toThrow('install code CRC is wrong: expected 0xd1a9, found 0xd1aa');
    try {
      installCodeToLinkKey(bad);
    } catch (e) {
      expect((e as Error).message).not.toContain('5555');
    }
  });

  test('shorter install codes are checked too, and odd lengths refused', () => {
    const six = fromHex('0123456789ab');
    const crc = crc16x25(six);
    const code = Uint8Array.from([...six, crc & 0xff, crc >> 8]);
    expect(installCodeToLinkKey(code)).toEqual(mmoHash(code));
    expect(() => installCodeToLinkKey(fromHex('01020304050607'))).toThrow(/6, 8, 12, 16 bytes plus a 2-byte CRC/);
  });
});

test.describe('CCM*', () => {
  const key = fromHex('000102030405060708090a0b0c0d0e0f');
  const nonce = securityNonce(fromHex('0102030405060708'), 0x01020304, 0x28);

  test('nonce: source as on air, counter LE, control with level 5', () => {
    expect(hex(nonce)).toBe('0102030405060708' + '04030201' + '2d');
  });

  test('round trip, and any tampering or a wrong key gives null', () => {
    const aad = fromHex('48020000');
    const plain = fromHex('deadbeef0102');
    const sealed = ccmStarEncrypt(key, nonce, aad, plain);
    expect(sealed.length).toBe(plain.length + 4);
    expect(ccmStarDecrypt(key, nonce, aad, sealed)).toEqual(plain);
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i] ^= 0x01;
      expect(ccmStarDecrypt(key, nonce, aad, bad)).toBeNull();
    }
    expect(ccmStarDecrypt(key, nonce, fromHex('48020001'), sealed)).toBeNull();
    expect(ccmStarDecrypt(fromHex(rep('11')), nonce, aad, sealed)).toBeNull();
    expect(ccmStarDecrypt(key, nonce, aad, sealed.subarray(0, 3))).toBeNull();
  });

  test('an empty payload carries only the MIC', () => {
    const sealed = ccmStarEncrypt(key, nonce, fromHex('01'), new Uint8Array(0));
    expect(sealed.length).toBe(4);
    expect(ccmStarDecrypt(key, nonce, fromHex('01'), sealed)).toEqual(new Uint8Array(0));
  });

  test('a key of the wrong size is refused without echoing it', () => {
    expect(() => ccmStarEncrypt(fromHex('abcdef'), nonce, new Uint8Array(0), new Uint8Array(1))).toThrow(
      'an AES-128 key has 16 bytes, got 3',
    );
  });
});

/** Node's own CCM, the reference the fast path (cached ECB/CBC ciphers) must agree with. */
function nodeCcmDecrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, mic: number): Uint8Array | null {
  if (sealed.length < mic) return null;
  const split = sealed.length - mic;
  const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: mic });
  d.setAuthTag(sealed.subarray(split));
  d.setAAD(aad, { plaintextLength: split });
  try {
    const out = d.update(sealed.subarray(0, split));
    d.final();
    return new Uint8Array(out);
  } catch {
    return null;
  }
}

function nodeCcmEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array, mic: number): Uint8Array {
  const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: mic });
  c.setAAD(aad, { plaintextLength: plain.length });
  return new Uint8Array(Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]));
}

test.describe('CCM* fast path against Node aes-128-ccm', () => {
  const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  const mic = fc.constantFrom(4, 8, 16);
  // A few keys, so the per-key cipher cache is hit, missed and interleaved.
  const keys = [fromHex(rep('01')), fromHex('5a6967426565416c6c69616e63653039'), fromHex('000102030405060708090a0b0c0d0e0f')];
  const keyArb = fc.oneof(fc.constantFrom(...keys), bytes(16));

  test('encryption gives the same ciphertext and MIC', () => {
    fc.assert(
      fc.property(
        keyArb,
        fc.integer({ min: 7, max: 13 }).chain(bytes),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 200 }),
        mic,
        (key, nonce, aad, plain, m) => {
          assert.deepEqual(ccmStarEncrypt(key, nonce, aad, plain, m), nodeCcmEncrypt(key, nonce, aad, plain, m));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('decryption of genuine, tampered and random input gives the same plaintext or null', () => {
    fc.assert(
      fc.property(
        keyArb,
        keyArb,
        bytes(13),
        fc.uint8Array({ maxLength: 60 }),
        fc.uint8Array({ maxLength: 200 }),
        mic,
        fc.nat(),
        fc.integer({ min: 0, max: 3 }),
        (key, otherKey, nonce, aad, plain, m, flipAt, mode) => {
          let sealed = nodeCcmEncrypt(key, nonce, aad, plain, m);
          let useKey = key;
          if (mode === 1) sealed[flipAt % sealed.length] ^= 1 << (flipAt % 8);
          else if (mode === 2) useKey = otherKey;
          else if (mode === 3) sealed = sealed.subarray(0, flipAt % (sealed.length + 1));
          const expected = nodeCcmDecrypt(useKey, nonce, aad, sealed, m);
          assert.deepEqual(ccmStarDecrypt(useKey, nonce, aad, sealed, m), expected);
          if (mode === 0) assert.deepEqual(expected, plain);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('random bytes never verify differently', () => {
    fc.assert(
      fc.property(
        keyArb,
        bytes(13),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 80 }),
        mic,
        (key, nonce, aad, sealed, m) => {
          assert.deepEqual(ccmStarDecrypt(key, nonce, aad, sealed, m), nodeCcmDecrypt(key, nonce, aad, sealed, m));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('one core: Ccm.openAll over many messages (any nonce and MIC length, keys interleaved) answers as Ccm.open one by one and as Node', () => {
    /** A message as the core reads it: AAD and sealed bytes side by side in one array. */
    const opening = (index: number, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, micLength: number): CcmOpening => {
      const bytes = new Uint8Array([...aad, ...sealed]);
      return {
        index,
        nonce,
        nonceAt: 0,
        nonceLength: nonce.length,
        bytes,
        aadStart: 0,
        aadLength: aad.length,
        patchAt: -1,
        patchValue: 0,
        messageStart: aad.length,
        m: sealed.length - micLength,
        micLength,
        ksAt: 0,
        macAt: 0,
        blocks: 0,
      };
    };
    const message = fc.record({
      key: fc.constantFrom(...keys),
      nonce: fc.integer({ min: 7, max: 13 }).chain(bytes),
      aad: fc.uint8Array({ maxLength: 70 }),
      plain: fc.uint8Array({ maxLength: 120 }),
      mic,
      flip: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 30 }), (specs) => {
        const sealed = specs.map((s) => {
          const out = nodeCcmEncrypt(s.key, s.nonce, s.aad, s.plain, s.mic);
          if (s.flip !== undefined) out[s.flip % out.length] ^= 1 << (s.flip % 8);
          return out;
        });
        const ccm = new Ccm();
        const many: (Uint8Array | null)[] = new Array(specs.length).fill(null);
        for (const key of keys) {
          const group = specs.flatMap((s, i) => (s.key === key ? [opening(i, s.nonce, s.aad, sealed[i], s.mic)] : []));
          ccm.openAll(key, group, many);
        }
        specs.forEach((s, i) => {
          const one = new Ccm().open(s.key, opening(0, s.nonce, s.aad, sealed[i], s.mic));
          assert.deepEqual(many[i], one, `message ${i} of ${specs.length}`);
          assert.deepEqual(one, nodeCcmDecrypt(s.key, s.nonce, s.aad, sealed[i], s.mic));
        });
      }),
      { numRuns: 300 },
    );
  });

  test('one Ccm instance: a key array changed in place is not served from its cipher cache', () => {
    const ccm = new Ccm();
    const key = fromHex(rep('42'));
    const nonce = new Uint8Array(13).fill(9);
    const sealed = ccm.seal(key, nonce, new Uint8Array(0), fromHex('0102'), 4);
    const open = () =>
      ccm.open(key, {
        index: 0,
        nonce,
        nonceAt: 0,
        nonceLength: 13,
        bytes: sealed,
        aadStart: 0,
        aadLength: 0,
        patchAt: -1,
        patchValue: 0,
        messageStart: 0,
        m: 2,
        micLength: 4,
        ksAt: 0,
        macAt: 0,
        blocks: 0,
      });
    expect(open()).toEqual(fromHex('0102'));
    key[0] ^= 1;
    expect(open()).toBeNull();
    key[0] ^= 1;
    expect(open()).toEqual(fromHex('0102'));
  });

  test('a key array changed in place is not served from the cipher cache', () => {
    const key = fromHex(rep('42'));
    const nonce = new Uint8Array(13).fill(9);
    const sealed = ccmStarEncrypt(key, nonce, new Uint8Array(0), fromHex('0102'));
    expect(ccmStarDecrypt(key, nonce, new Uint8Array(0), sealed)).toEqual(fromHex('0102'));
    key[0] ^= 1;
    expect(ccmStarDecrypt(key, nonce, new Uint8Array(0), sealed)).toBeNull();
    key[0] ^= 1;
    expect(ccmStarDecrypt(key, nonce, new Uint8Array(0), sealed)).toEqual(fromHex('0102'));
  });

  test('nonce lengths outside 7..13 are refused, as Node refuses them', () => {
    expect(() => ccmStarDecrypt(fromHex(rep('42')), new Uint8Array(14), new Uint8Array(0), new Uint8Array(8))).toThrow(/nonce/);
    expect(() => ccmStarEncrypt(fromHex(rep('42')), new Uint8Array(6), new Uint8Array(0), new Uint8Array(8))).toThrow(/nonce/);
  });
});

test.describe('auxiliary security header', () => {
  // PROTOCOL.md §3 test frame: NWK header at 9, extended source, aux header at 25.
  const section3 = fromHex('4188a31e48ffff00000912fcff000001cc0885dafeffd76b0828f6ea32000885dafeffd76b0800295e19cad6ebd84ca2aee2');

  test('decodes the PROTOCOL.md §3 frame', () => {
    const r = new Reader(section3, 25);
    const aux = decodeAuxHeader(r);
    expect(aux).toEqual({
      control: 0x28,
      level: 0,
      keyId: 'network',
      extendedNonce: true,
      frameCounter: 0x0032eaf6,
      source: fromHex('0885dafeffd76b08'),
      keySeq: 0,
      length: 14,
    });
    expect(r.offset).toBe(39);
  });

  test('the §3 frame is not from whsniff: its network key does not decrypt it (tshark agrees)', () => {
    const frame = section3.subarray(0, section3.length - 2);
    const aux = decodeAuxHeader(new Reader(frame, 25));
    expect(unsecure(frame, 9, aux, 25, [fromHex('01030507090b0d0f00020406080a0c0d')])).toBeNull();
  });

  test('encode/decode round trip keeps bits 6–7 and lengths per key id', () => {
    const cases: Array<[Omit<AuxHeader, 'length' | 'control'> & { control?: number }, number]> = [
      [{ level: 0, keyId: 'network', extendedNonce: true, frameCounter: 1, source: counting(8), keySeq: 7 }, 14],
      [{ level: 0, keyId: 'link', extendedNonce: false, frameCounter: 0xffffffff }, 5],
      [{ level: 5, keyId: 'key-load', extendedNonce: true, frameCounter: 2, source: counting(8), control: 0x40 }, 13],
      [{ level: 0, keyId: 'key-transport', extendedNonce: false, frameCounter: 3 }, 5],
    ];
    for (const [h, length] of cases) {
      const w = new Writer();
      encodeAuxHeader(w, h);
      const bytes = w.finish();
      const back = decodeAuxHeader(new Reader(bytes));
      expect(back.length).toBe(length);
      expect(bytes.length).toBe(length);
      const { control, length: _len, ...fields } = back;
      const { control: wanted = 0, ...given } = h;
      expect(fields).toEqual(given);
      expect(control & 0xc0).toBe(wanted & 0xc0);
    }
  });

  test('encoding refuses a missing source or key sequence number', () => {
    expect(() => encodeAuxHeader(new Writer(), { level: 0, keyId: 'link', extendedNonce: true, frameCounter: 1 })).toThrow(/source IEEE/);
    expect(() => encodeAuxHeader(new Writer(), { level: 0, keyId: 'network', extendedNonce: false, frameCounter: 1 })).toThrow(
      /key sequence number/,
    );
  });

  test('a truncated aux header is a DecodeError at the frame offset', () => {
    const bytes = fromHex('28f6ea32000885da');
    const err = (() => {
      try {
        decodeAuxHeader(new Reader(bytes, 0, 30));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).field).toBe('security source address');
    expect((err as DecodeError).offset).toBe(35);
  });
});

/**
 * Real secured frames with what tshark 4.0.17 decrypts them to. `frame` includes the MAC FCS;
 * offsets are into the frame (NWK header at 9), or for `inner` into the outer plaintext.
 */
interface Layer {
  layer: 'nwk' | 'aps';
  headerStart: number;
  auxStart: number;
  plaintext: string;
  key: string;
}
interface Vector {
  name: string;
  frame: string;
  outer: Layer;
  inner?: Layer;
}

const NWK_11 = rep('11');
const IC5 = '3c6047f3c55c8c8290a5839c213b6714';
const IC6 = '865eb452951420552e9fdbb3f16642ea';
const transportKey = (nwkKey: string, dst: string, src: string) => `0501${nwkKey}00${dst}${src}`;

const vectors: Vector[] = [
  {
    name: 'whsniff frame 375 (NWK data, network key)',
    frame: '6188a3621a7a6a000048027a6a00001e29282789f10b68d2cb24004b120000e86cc8ab62412c79814f8dec8b3dbe634edc98',
    outer: { layer: 'nwk', headerStart: 9, auxStart: 17, plaintext: '000100ef0401013210c50b0200', key: '01030507090b0d0f00020406080a0c0d' },
  },
  {
    name: 'whsniff frame 4319 (APS Transport Key, key-transport key of ZigBeeAlliance09)',
    frame:
      '618853621a8dae4c7108008dae4c7101d3215d301001000068d2cb24004b1200291b24a4dc0030bc940ad5d76aae14c52f1f9ac99965315dd9d566597b06a160493c2e7439053b21df',
    outer: {
      layer: 'aps',
      headerStart: 17,
      auxStart: 19,
      plaintext: transportKey('01030507090b0d0f00020406080a0c0d', 'ce196d592c38c1a4', '68d2cb24004b1200'),
      key: hex(keyedHash(ZIGBEE_ALLIANCE_09, 0)),
    },
  },
  {
    name: 'zigator_04 frame 1 (NWK, APS ack)',
    frame: '618800dddd000002110802000002111ef028002800000300000000777777002f0b86a79f3c0c0bae0f4915355e',
    outer: { layer: 'nwk', headerStart: 9, auxStart: 17, plaintext: '020005000000004e', key: NWK_11 },
  },
  {
    name: 'zigator_04 frame 2 (APS Transport Key under link key 33…33)',
    frame:
      '618801dddd021100000800021100001ef1216430012800000100000000777777130c00b08bf1dc4788a49d87f2c10be730a6609c7830b68dd17b0b1e9b111751c0ae44b66ca98fb79b',
    outer: {
      layer: 'aps',
      headerStart: 17,
      auxStart: 19,
      plaintext: transportKey(NWK_11, '0300000000777777', '0100000000777777'),
      key: hex(keyedHash(fromHex(rep('33')), 0)),
    },
  },
  {
    name: 'zigator_04 frame 4 (NWK, then APS Request Key under install-code link key)',
    frame: '618803dddd021102220822000002221ef32804280000050000000077777700e4fe9e9dbe918f04f05dea7c6eb7d696f8593a51ff2c698be1514f',
    outer: { layer: 'nwk', headerStart: 9, auxStart: 17, plaintext: '216620032800000500000000777777a172bdcebf07', key: NWK_11 },
    inner: { layer: 'aps', headerStart: 0, auxStart: 2, plaintext: '0804', key: IC5 },
  },
  {
    name: 'zigator_04 frame 5 (NWK, APS Tunnel carrying a Transport Key under install-code key-transport key)',
    frame:
      '618804dddd021100000802021100001ef42806280000010000000077777700858835951bb1bcf9e7d01df09ef712c00eefb3b05cf09c3bd150aaa8ca119a6f66f4726670110c801de6c83184305bebf4fa35046d46952124f7ef6bbd08903fd6be82ace1008c',
    outer: {
      layer: 'nwk',
      headerStart: 9,
      auxStart: 17,
      plaintext:
        '01670e05000000007777772168300528000001000000007777' +
        '77cc649d4d224f4ca1ecaf93b54bac7b35059ac2fc2499c197e2e819f64e356bc3818e1712b544e3',
      key: NWK_11,
    },
    // Tunnel command: APS fc, counter, 0x0e, destination IEEE, then the tunnelled APS frame at 11.
    inner: {
      layer: 'aps',
      headerStart: 11,
      auxStart: 13,
      plaintext: transportKey(NWK_11, '0500000000777777', '0100000000777777'),
      key: hex(keyedHash(fromHex(IC5), 0)),
    },
  },
  {
    name: 'zigator_04 frame 6 (source-routed NWK, APS Transport Key under key-load key)',
    frame:
      '618805dddd021100000806022200001ef5010002112808280000010000000077777700d19df543cb1215afff9214f79fdde657319e8d56f7b4f445ae538af8e98375464eda7f1187c985ce73fdce05acf3202d3d08c324c98678a51f71cc',
    outer: {
      layer: 'nwk',
      headerStart: 9,
      auxStart: 21,
      plaintext: '21693807280000010000000077777799262fa4394ec3d25fa0974709a3543127c5d73d2dc7d22cfcbc5099a8e92083c70b8465267d',
      key: NWK_11,
    },
    inner: {
      layer: 'aps',
      headerStart: 0,
      auxStart: 2,
      plaintext: `0504${rep('77')}05000000007777770100000000777777`,
      key: hex(keyedHash(fromHex(IC5), 2)),
    },
  },
  {
    name: 'zigator_04 frame 8 (APS Confirm Key under link key 77…77)',
    frame:
      '618807dddd021100000806022200001ef701000211280b280000010000000077777700a51ab28a7b75473e079cfae1dd4b0465e7c324fed38728259f8005b18af2aa35b585b4f9',
    outer: {
      layer: 'nwk',
      headerStart: 9,
      auxStart: 21,
      plaintext: '616b200a2800000100000000777777f47eaf4f21f699864b20fd30db5d1e',
      key: NWK_11,
    },
    inner: { layer: 'aps', headerStart: 0, auxStart: 2, plaintext: '1000040500000000777777', key: rep('77') },
  },
  {
    name: 'zigator_04 frame 9 (APS Transport Key under link key 44…44, other network)',
    frame:
      '618808ccbb023300000800023300001ef8216c300c28000001000000008888888845b02807a59c4ec310ceaf166304561794f1e8ed2e4b9f584fc41bae5ab7ca2c10b160c6442fcd4b',
    outer: {
      layer: 'aps',
      headerStart: 17,
      auxStart: 19,
      plaintext: transportKey(rep('22'), '0300000000888888', '0100000000888888'),
      key: hex(keyedHash(fromHex(rep('44')), 0)),
    },
  },
  {
    name: 'zigator_04 frame 10 (Tunnel, Transport Key under the second install code)',
    frame:
      '618809dddd021100000802021100001ef9280e280000010000000077777700912877e54569311d5801bb164a4f22aacf0271e4e3ab3034ad3ed6011519e6281a437cf2020f351cef28a43aa02e4fe88cac30135bacec3453ea2478af4e0343a6abdf871f690f',
    outer: {
      layer: 'nwk',
      headerStart: 9,
      auxStart: 17,
      plaintext:
        '016d0e0600000000777777216e300d28000001000000007777' +
        '77212d9e96d1d19d39efe53d826e20921ace4ef24e4108172c5ccdf55383cb0aad2603e31bbc85ba',
      key: NWK_11,
    },
    inner: {
      layer: 'aps',
      headerStart: 11,
      auxStart: 13,
      plaintext: transportKey(NWK_11, '0600000000777777', '0100000000777777'),
      key: hex(keyedHash(fromHex(IC6), 0)),
    },
  },
  {
    name: 'zigator_04 frame 11 (APS Confirm Key under link key 88…88)',
    frame:
      '61880adddd021100000806042200001efa01000211281028000001000000007777770064daa9fd5bf73111bfe5590ef3d37667c1f524ac937a39ee7ddda6661d4c614fcb1ed67a',
    outer: {
      layer: 'nwk',
      headerStart: 9,
      auxStart: 21,
      plaintext: '616f200f2800000100000000777777eeb4ddfdebbb3954077f42c3f435c6',
      key: NWK_11,
    },
    inner: { layer: 'aps', headerStart: 0, auxStart: 2, plaintext: '1000040700000000777777', key: rep('88') },
  },
];

/** Every key the captures' README lists, as a rig would load them. */
function captureKeys(): KeyTable {
  const t = new KeyTable();
  t.addNetworkKey(fromHex('01030507090b0d0f00020406080a0c0d'), 0);
  t.addNetworkKey(fromHex(rep('11')));
  t.addNetworkKey(fromHex(rep('22')));
  for (const k of ['33', '44', '77', '88']) t.addLinkKey(fromHex(rep(k)));
  t.addInstallCode(fromHex('55555555555555555555555555555555A9D1'));
  t.addInstallCode(fromHex('66666666666666666666666666666666A603'));
  t.setTrustCentreLinkKey(ZIGBEE_ALLIANCE_09);
  return t;
}

function decryptLayer(keys: KeyTable, bytes: Uint8Array, l: Layer) {
  const aux = decodeAuxHeader(new Reader(bytes, l.auxStart));
  const result = unsecure(bytes, l.headerStart, aux, l.auxStart, keys.candidates(aux, l.layer));
  expect(result, 'decrypts').not.toBeNull();
  expect(hex(result!.plaintext)).toBe(l.plaintext);
  expect(hex(result!.key)).toBe(l.key);
  // Re-securing the header (level 0 as on air) with the same key gives back the bytes on air.
  const header = bytes.subarray(0, l.auxStart + aux.length);
  expect(hex(secure(header, l.headerStart, l.auxStart, result!.plaintext, result!.key))).toBe(hex(bytes));
  return result!.plaintext;
}

test.describe('decrypting real frames as tshark does', () => {
  for (const v of vectors) {
    test(v.name, () => {
      const keys = captureKeys();
      const onAir = fromHex(v.frame);
      const frame = onAir.subarray(0, onAir.length - 2); // without the MAC FCS
      const plaintext = decryptLayer(keys, frame, v.outer);
      if (v.inner) decryptLayer(keys, plaintext, v.inner);
    });
  }

  test('the transport key in whsniff 4319 is the capture network key', () => {
    const v = vectors[1];
    const keys = new KeyTable();
    keys.setTrustCentreLinkKey(fromHex('5a6967426565416c6c69616e63653039'));
    const frame = fromHex(v.frame).subarray(0, -2);
    const aux = decodeAuxHeader(new Reader(frame, 19));
    expect(aux.keyId).toBe('key-transport');
    const result = unsecure(frame, 17, aux, 19, keys.candidates(aux, 'aps'));
    expect(result).not.toBeNull();
    // Command 0x05, key type 0x01 (standard network key), then the key.
    const key = result!.plaintext.subarray(2, 18);
    expect(hex(key)).toBe('01030507090b0d0f00020406080a0c0d');
    expect(keys.learnNetworkKey(key, result!.plaintext[18])).toBe(true);
    expect(keys.learnNetworkKey(key, 0)).toBe(false);
  });

  test('a flipped bit anywhere in header, aux header or payload fails every key', () => {
    const keys = captureKeys();
    const frame = fromHex(vectors[0].frame).subarray(0, -2);
    for (let i = 9; i < frame.length; i++) {
      if (i === 17) continue; // the level bits of the control byte are patched, and other bits change the aux layout
      const bad = frame.slice();
      bad[i] ^= 0x80;
      const aux = decodeAuxHeader(new Reader(bad, 17));
      expect(unsecure(bad, 9, aux, 17, keys.candidates(aux, 'nwk'))).toBeNull();
    }
  });
});

test.describe('frames without extended nonce', () => {
  // APS frames may omit the source: the nonce then uses the NWK source IEEE the caller knows.
  const source = fromHex('0100000000777777');
  const key = fromHex(rep('77'));
  const w = new Writer().u8(0x21).u8(0x42);
  encodeAuxHeader(w, { level: 0, keyId: 'link', extendedNonce: false, frameCounter: 99 });
  const header = w.finish();

  test('secure and unsecure with the caller-supplied source', () => {
    const frame = secure(header, 0, 2, fromHex('1000040500000000777777'), key, source);
    const aux = decodeAuxHeader(new Reader(frame, 2));
    expect(unsecure(frame, 0, aux, 2, [key], source)?.plaintext).toEqual(fromHex('1000040500000000777777'));
    expect(unsecure(frame, 0, aux, 2, [key], fromHex('0200000000777777'))).toBeNull();
    expect(() => unsecure(frame, 0, aux, 2, [key])).toThrow(/sender IEEE address/);
  });
});

test.describe('unsecureMany: many frames in a few AES calls', () => {
  const keys = [fromHex(rep('01')), fromHex('5a6967426565416c6c69616e63653039'), fromHex(rep('a5'))];
  // A secured frame: random header bytes, an aux header with or without extended nonce, a payload.
  const securedFrame = fc.record({
    header: fc.uint8Array({ minLength: 0, maxLength: 24 }),
    extended: fc.boolean(),
    keyId: fc.constantFrom<AuxHeader['keyId']>('network', 'link', 'key-transport'),
    frameCounter: fc.nat(),
    source: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    plain: fc.uint8Array({ maxLength: 110 }),
    sealKey: fc.constantFrom(...keys),
    tryKey: fc.constantFrom(...keys),
    damage: fc.constantFrom('none', 'flip', 'cut'),
    at: fc.nat(),
    /** Bytes after the MIC (a MAC FCS, say), which `end` leaves out. */
    trailer: fc.uint8Array({ maxLength: 3 }),
  });

  test('answers exactly as unsecure does frame by frame, across keys, lengths and damage', () => {
    fc.assert(
      fc.property(fc.array(securedFrame, { maxLength: 40 }), (specs) => {
        const jobs: SecuredFrame[] = specs.map((f) => {
          const w = new Writer().bytes(f.header);
          encodeAuxHeader(w, {
            level: 0,
            keyId: f.keyId,
            extendedNonce: f.extended,
            frameCounter: f.frameCounter,
            source: f.source,
            keySeq: 0,
          });
          const head = w.finish();
          let frame = secure(head, 0, f.header.length, f.plain, f.sealKey, f.source);
          if (f.damage === 'flip') frame[f.at % frame.length] ^= 1 << (f.at % 8);
          if (f.damage === 'cut') frame = frame.subarray(0, head.length + (f.at % (frame.length - head.length + 1)));
          const aux = decodeAuxHeader(new Reader(head, f.header.length));
          const sender = f.extended ? {} : { sourceLE: f.source };
          if (f.trailer.length === 0) return { frame, headerStart: 0, auxStart: f.header.length, aux, key: f.tryKey, ...sender };
          const withTrailer = new Uint8Array([...frame, ...f.trailer]);
          return { frame: withTrailer, end: frame.length, headerStart: 0, auxStart: f.header.length, aux, key: f.tryKey, ...sender };
        });
        const many = unsecureMany(jobs);
        assert.equal(many.length, jobs.length);
        jobs.forEach((j, i) => {
          const sealed = j.frame.subarray(0, j.end ?? j.frame.length);
          const one = unsecure(sealed, j.headerStart, j.aux, j.auxStart, [j.key], j.sourceLE)?.plaintext ?? null;
          assert.deepEqual(many[i], one, `frame ${i} of ${jobs.length}`);
          const spec = specs[i];
          if (spec.damage === 'none' && spec.sealKey === spec.tryKey) assert.deepEqual(many[i], spec.plain);
        });
      }),
      { numRuns: 300 },
    );
  });

  test('the real whsniff frames open as they do one by one; a frame that cannot hold a MIC is null', () => {
    const keys = captureKeys();
    const jobs: SecuredFrame[] = vectors.map((v) => {
      const onAir = fromHex(v.frame);
      const frame = onAir.subarray(0, onAir.length - 2);
      const aux = decodeAuxHeader(new Reader(frame, v.outer.auxStart));
      const key = unsecure(frame, v.outer.headerStart, aux, v.outer.auxStart, keys.candidates(aux, v.outer.layer))!.key;
      return { frame, headerStart: v.outer.headerStart, auxStart: v.outer.auxStart, aux, key };
    });
    const short = { ...jobs[0], frame: jobs[0].frame.subarray(0, jobs[0].auxStart + jobs[0].aux.length + 3) };
    // As the decoder hands them over: the frame as captured, FCS and all, with `end` before the FCS.
    const withFcs = vectors.map((v, i) => ({ ...jobs[i], frame: fromHex(v.frame), end: jobs[i].frame.length }));
    const many = unsecureMany([...jobs, short, ...withFcs]);
    jobs.forEach((_, i) => expect(hex(many[i]!), vectors[i].name).toBe(vectors[i].outer.plaintext));
    expect(many[jobs.length]).toBeNull();
    withFcs.forEach((_, i) => expect(hex(many[jobs.length + 1 + i]!), `${vectors[i].name} with its FCS`).toBe(vectors[i].outer.plaintext));
  });

  test('a header that does not fit the frame is a DecodeError, and a missing sender is named', () => {
    const aux = decodeAuxHeader(new Reader(fromHex('080000000000'), 0));
    expect(() => unsecureMany([{ frame: new Uint8Array(4), headerStart: 0, auxStart: 0, aux, key: keys[0] }])).toThrow(DecodeError);
    expect(() => unsecureMany([{ frame: new Uint8Array(12), headerStart: 0, auxStart: 0, aux, key: keys[0] }])).toThrow(
      /sender IEEE address/,
    );
  });
});

test.describe('KeyTable', () => {
  const aux = (keyId: AuxHeader['keyId'], extra: Partial<AuxHeader> = {}): AuxHeader => ({
    control: 0,
    level: 0,
    keyId,
    extendedNonce: false,
    frameCounter: 0,
    length: 5,
    ...extra,
  });

  test('network keys with the frame key sequence number come first', () => {
    const t = new KeyTable();
    t.addNetworkKey(fromHex(rep('01')), 1);
    t.addNetworkKey(fromHex(rep('02')));
    t.addNetworkKey(fromHex(rep('03')), 3);
    expect(t.candidates(aux('network', { keySeq: 3 }), 'nwk').map(hex)).toEqual([rep('03'), rep('02'), rep('01')]);
    expect(t.candidates(aux('network', { keySeq: 1 }), 'aps').map(hex)).toEqual([rep('01'), rep('02'), rep('03')]);
  });

  test('NWK frames only ever use network keys', () => {
    const t = captureKeys();
    expect(t.candidates(aux('link'), 'nwk')).toEqual([]);
    expect(t.candidates(aux('key-transport'), 'nwk')).toEqual([]);
  });

  test('link keys: bound to the sender first, then trust centre, then the rest; derived for key-transport / key-load', () => {
    const t = new KeyTable();
    const partner = fromHex('0100000000777777');
    t.addLinkKey(fromHex(rep('0a')));
    t.addLinkKey(fromHex(rep('0b')), fromHex('0200000000777777'));
    t.addLinkKey(fromHex(rep('0c')), partner);
    t.addLinkKey(fromHex(rep('0c')), partner); // duplicates collapse
    t.setTrustCentreLinkKey(fromHex(rep('0d')));
    const order = [rep('0c'), rep('0d'), rep('0a'), rep('0b')];
    expect(t.candidates(aux('link', { extendedNonce: true, source: partner }), 'aps').map(hex)).toEqual(order);
    expect(t.candidates(aux('link'), 'aps', partner).map(hex)).toEqual(order);
    expect(t.candidates(aux('key-transport'), 'aps', partner).map(hex)).toEqual(order.map((k) => hex(keyedHash(fromHex(k), 0))));
    expect(t.candidates(aux('key-load'), 'aps', partner).map(hex)).toEqual(order.map((k) => hex(keyedHash(fromHex(k), 2))));
  });

  test('cached candidate lists follow keys added later', () => {
    const t = new KeyTable();
    t.addNetworkKey(fromHex(rep('01')), 1);
    expect(t.candidates(aux('network', { keySeq: 2 }), 'nwk').map(hex)).toEqual([rep('01')]);
    t.addNetworkKey(fromHex(rep('02')), 2);
    expect(t.candidates(aux('network', { keySeq: 2 }), 'nwk').map(hex)).toEqual([rep('02'), rep('01')]);
    t.learnNetworkKey(fromHex(rep('01')), 2);
    t.learnNetworkKey(fromHex(rep('02')), 3);
    expect(t.candidates(aux('network', { keySeq: 2 }), 'nwk').map(hex)).toEqual([rep('01'), rep('02')]);
    t.addLinkKey(fromHex(rep('0a')));
    expect(t.candidates(aux('key-transport'), 'aps').map(hex)).toEqual([hex(keyedHash(fromHex(rep('0a')), 0))]);
    t.setTrustCentreLinkKey(fromHex(rep('0d')));
    expect(t.candidates(aux('link'), 'aps').map(hex)).toEqual([rep('0d'), rep('0a')]);
    expect(t.candidates(aux('key-transport'), 'aps').map(hex)).toEqual([rep('0d'), rep('0a')].map((k) => hex(keyedHash(fromHex(k), 0))));
    const partner = fromHex('0100000000777777');
    t.addLinkKey(fromHex(rep('0c')), partner);
    expect(t.candidates(aux('link'), 'aps', partner).map(hex)).toEqual([rep('0c'), rep('0d'), rep('0a')]);
    expect(t.candidates(aux('link'), 'aps').map(hex)).toEqual([rep('0d'), rep('0a'), rep('0c')]);
    // Shared lists are frozen: a caller cannot corrupt the next frame's candidates.
    expect(Object.isFrozen(t.candidates(aux('network', { keySeq: 2 }), 'nwk'))).toBe(true);
  });

  test('keys and partners are copied, even from a Buffer the caller later reuses', () => {
    const t = new KeyTable();
    const scratch = Buffer.from(rep('01'), 'hex');
    const partner = Buffer.from('0100000000777777', 'hex');
    t.addNetworkKey(scratch, 1);
    t.addLinkKey(scratch, partner);
    t.setTrustCentreLinkKey(scratch);
    scratch.fill(0xee);
    partner.fill(0xee);
    expect(t.candidates(aux('network', { keySeq: 1 }), 'nwk').map(hex)).toEqual([rep('01')]);
    expect(t.candidates(aux('link'), 'aps', fromHex('0100000000777777')).map(hex)).toEqual([rep('01')]);
  });

  test('learnNetworkKey says whether the key was new', () => {
    const t = new KeyTable();
    expect(t.learnNetworkKey(fromHex(rep('22')), 0)).toBe(true);
    expect(t.learnNetworkKey(fromHex(rep('22')), 1)).toBe(false);
    expect(t.size.network).toBe(1);
    expect(t.candidates(aux('network', { keySeq: 1 }), 'nwk').map(hex)).toEqual([rep('22')]);
  });

  test('keys never show in toString, JSON or inspect', () => {
    const t = captureKeys();
    const secret = /1111|3333|0103050709|3c6047f3|5a696742/i;
    for (const shown of [String(t), `${t}`, JSON.stringify(t), inspect(t, { showHidden: true, depth: 10 })]) {
      expect(shown).not.toMatch(secret);
      expect(shown).toContain('redacted');
    }
  });
});
