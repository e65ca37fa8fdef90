// Frame-by-frame agreement between the project's decoder and tshark on every real capture.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fromHex } from '../../protocol/bytes.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import { readCaptureSync } from '../../protocol/pcapng.ts';
import { KeyTable } from '../../protocol/security.ts';
import { CAPTURES, capturePath, type CaptureCase } from '../support/captures.ts';
import { keyArgs, tsharkFieldNames, tsharkFields } from '../support/tshark.ts';

type Row = Record<string, string[]>;

/** One compared fact: how we say it, how tshark says it (undefined = absent). */
interface Check {
  name: string;
  ours: (f: DecodedFrame) => string | undefined;
  theirs: (row: Row) => string | undefined;
  /** False where tshark does not expose the fact at all (so there is nothing to compare with). */
  comparable?: (row: Row) => boolean;
}

const first = (row: Row, field: string) => row[field]?.[0];
const num = (v: string | undefined) => (v === undefined ? undefined : String(Number(v)));
const lower = (v: string | undefined) => v?.toLowerCase();
const bool = (v: string | undefined) => (v === undefined ? undefined : v === '1' || v === 'True' ? 'true' : 'false');
const str = (v: unknown) => (v === undefined ? undefined : String(v));
const MAC_TYPES = ['beacon', 'data', 'ack', 'command'];
const NWK_TYPES: Record<string, string> = { '0': 'data', '1': 'command', '3': 'inter-pan' };
const APS_TYPES = ['data', 'command', 'ack', 'inter-pan'];

/** How many of the frame's secured layers tshark opened: NWK first, then APS. */
function decryptedLayers(row: Row): number {
  return row['zbee.sec.key']?.length ?? 0;
}

const CHECKS: Check[] = [
  {
    name: 'mac.type',
    ours: (f) => f.mac?.type,
    theirs: (r) => {
      const t = num(first(r, 'wpan.frame_type'));
      return t === undefined ? undefined : (MAC_TYPES[Number(t)] ?? 'reserved');
    },
  },
  { name: 'mac.seq', ours: (f) => str(f.mac?.seq), theirs: (r) => num(first(r, 'wpan.seq_no')) },
  { name: 'mac.dstPan', ours: (f) => f.mac?.dstPan, theirs: (r) => lower(first(r, 'wpan.dst_pan')) },
  { name: 'mac.dst', ours: (f) => f.mac?.dst, theirs: (r) => lower(first(r, 'wpan.dst16') ?? first(r, 'wpan.dst64')) },
  { name: 'mac.srcPan', ours: (f) => f.mac?.srcPan, theirs: (r) => lower(first(r, 'wpan.src_pan')) },
  { name: 'mac.src', ours: (f) => f.mac?.src, theirs: (r) => lower(first(r, 'wpan.src16') ?? first(r, 'wpan.src64')) },
  {
    name: 'nwk.type',
    ours: (f) => f.nwk?.type,
    theirs: (r) => {
      const t = num(first(r, 'zbee_nwk.frame_type'));
      return t === undefined ? undefined : (NWK_TYPES[t] ?? 'reserved');
    },
  },
  { name: 'nwk.dst', ours: (f) => f.nwk?.dst, theirs: (r) => lower(first(r, 'zbee_nwk.dst')) },
  { name: 'nwk.src', ours: (f) => f.nwk?.src, theirs: (r) => lower(first(r, 'zbee_nwk.src')) },
  { name: 'nwk.seq', ours: (f) => str(f.nwk?.seq), theirs: (r) => num(first(r, 'zbee_nwk.seqno')) },
  { name: 'nwk.secured', ours: (f) => str(f.nwk?.secured), theirs: (r) => bool(first(r, 'zbee_nwk.security')) },
  {
    name: 'nwk.decrypted',
    ours: (f) => (f.nwk?.secured ? str(f.nwk.decrypted) : undefined),
    theirs: (r) => (bool(first(r, 'zbee_nwk.security')) === 'true' ? str(decryptedLayers(r) >= 1) : undefined),
  },
  {
    name: 'aps.type',
    ours: (f) => f.aps?.type,
    theirs: (r) => {
      const t = num(first(r, 'zbee_aps.type'));
      return t === undefined ? undefined : APS_TYPES[Number(t)];
    },
  },
  {
    name: 'aps.cluster',
    ours: (f) => f.aps?.cluster,
    theirs: (r) => lower(first(r, 'zbee_aps.cluster') ?? first(r, 'zbee_aps.zdp_cluster')),
  },
  { name: 'aps.profile', ours: (f) => f.aps?.profile, theirs: (r) => lower(first(r, 'zbee_aps.profile')) },
  { name: 'aps.dstEp', ours: (f) => str(f.aps?.dstEp), theirs: (r) => num(first(r, 'zbee_aps.dst')) },
  { name: 'aps.srcEp', ours: (f) => str(f.aps?.srcEp), theirs: (r) => num(first(r, 'zbee_aps.src')) },
  {
    name: 'aps.decrypted',
    ours: (f) => (f.aps?.secured ? str(f.aps.decrypted) : undefined),
    theirs: (r) =>
      bool(first(r, 'zbee_aps.security')) === 'true'
        ? str(decryptedLayers(r) >= (bool(first(r, 'zbee_nwk.security')) === 'true' ? 2 : 1))
        : undefined,
  },
  {
    name: 'zcl.type',
    ours: (f) => f.zcl?.type,
    theirs: (r) => {
      const t = num(first(r, 'zbee_zcl.type'));
      return t === undefined ? undefined : t === '0' ? 'global' : 'cluster';
    },
  },
  // tshark has no command id field for cluster-specific frames of a cluster it knows without commands (e.g. 0x0001).
  {
    name: 'zcl.cmd',
    ours: (f) => str(f.zcl?.cmd),
    theirs: (r) => zclCommandId(r),
    comparable: (r) => !(first(r, 'zbee_zcl.type') !== undefined && zclCommandId(r) === undefined),
  },
  {
    name: 'zcl.dir',
    ours: (f) => f.zcl?.dir,
    theirs: (r) => {
      const d = num(first(r, 'zbee_zcl.dir'));
      return d === undefined ? undefined : d === '0' ? 'client-to-server' : 'server-to-client';
    },
  },
  { name: 'zcl.mfr', ours: (f) => str(f.zcl?.mfr), theirs: (r) => num(first(r, 'zbee_zcl.cmd.mc')) },
];

/** tshark puts a cluster-specific command id in a per-cluster field: the first one present. */
let zclIdFields: string[] = [];
function zclCommandId(r: Row): string | undefined {
  for (const f of zclIdFields) {
    const v = first(r, f);
    if (v !== undefined) return num(v);
  }
  return undefined;
}

const BASE_FIELDS = [
  'wpan.frame_type',
  'wpan.seq_no',
  'wpan.dst_pan',
  'wpan.dst16',
  'wpan.dst64',
  'wpan.src_pan',
  'wpan.src16',
  'wpan.src64',
  'zbee_nwk.frame_type',
  'zbee_nwk.dst',
  'zbee_nwk.src',
  'zbee_nwk.seqno',
  'zbee_nwk.security',
  'zbee.sec.key',
  'zbee_aps.type',
  'zbee_aps.cluster',
  'zbee_aps.zdp_cluster',
  'zbee_aps.profile',
  'zbee_aps.dst',
  'zbee_aps.src',
  'zbee_aps.security',
  'zbee_zcl.type',
  'zbee_zcl.dir',
  'zbee_zcl.cmd.mc',
  'zbee_zcl.cmd.id',
  'zbee_zcl.cs.cmd.id',
];

/** Disagreements tshark is known to be wrong about, each with its reason; never a blanket skip. */
const KNOWN_TSHARK_DEFECTS: { capture: string; frame: number; check: string; reason: string }[] = [];

function keyTableFor(c: CaptureCase): KeyTable {
  const keys = new KeyTable();
  for (const k of c.networkKeys) keys.addNetworkKey(fromHex(k));
  for (const k of c.linkKeys) keys.addLinkKey(fromHex(k));
  return keys;
}

for (const c of CAPTURES.filter((c) => !c.refused)) {
  test(`decoder agrees with tshark frame by frame: ${c.file}`, () => {
    zclIdFields = [
      'zbee_zcl.cmd.id',
      'zbee_zcl.cs.cmd.id',
      ...tsharkFieldNames().filter((f) => /^zbee_zcl_[a-z_]+\.[a-z_]+\.cmd[._]srv_(rx|tx)\.id$/.test(f)),
    ];
    const path = capturePath(c.file);
    const oracleKeys = [...c.networkKeys, ...c.linkKeys].map((hex, i) => ({ hex, label: `k${i}` }));
    const rows = tsharkFields(path, [...BASE_FIELDS, ...zclIdFields], keyArgs(oracleKeys));
    const decoder = new HanDecoder(keyTableFor(c));
    const frames = readCaptureSync(readFileSync(path), c.file).map((p) => decoder.decode(p));
    expect(frames.length, 'frame count').toBe(rows.length);

    const disagreements: string[] = [];
    const tally = new Map<string, number>();
    let incomparable = 0;
    frames.forEach((f, i) => {
      for (const check of CHECKS) {
        if (check.comparable && !check.comparable(rows[i])) {
          incomparable++;
          continue;
        }
        const ours = check.ours(f),
          theirs = check.theirs(rows[i]);
        if (ours === theirs) continue;
        const known = KNOWN_TSHARK_DEFECTS.find((d) => d.capture === c.file && d.frame === f.n && d.check === check.name);
        if (known) continue;
        tally.set(check.name, (tally.get(check.name) ?? 0) + 1);
        if (disagreements.length < 40)
          disagreements.push(
            `${String(f.n).padStart(6)} | ${check.name.padEnd(14)} | ours ${String(ours).padEnd(24)} | tshark ${theirs} | ${f.summary}`,
          );
      }
    });
    test.info().annotations.push({ type: 'not comparable', description: `${incomparable} facts tshark does not expose` });
    const header = `frame  | field          | ours                          | tshark\n`;
    const counts = [...tally].map(([k, v]) => `${k}: ${v}`).join(', ');
    expect(disagreements, `${c.file}: ${counts}\n${header}${disagreements.join('\n')}`).toEqual([]);
  });
}
