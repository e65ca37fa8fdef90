// A decoded frame's JSON line — the same text as JSON.stringify(frame), in less time: `gbcs-rig
// decode --format jsonl` spends more on serialising than on decoding. The decoder builds every
// object of the shape with all its keys in one fixed order (one hidden class each: newFrame,
// decodeMac, decodeNwkHeader, decodeApsHeader, securityOf); this writes those keys in that order,
// leaving out the undefined ones as JSON.stringify does, and hands the open-ended parts (radio,
// beacon, command fields, fragment, ZCL, GBCS, error) to JSON.stringify.
// test/unit/frame-json.spec.ts holds it to JSON.stringify on every frame of the shared captures.
import type { DecodedAps, DecodedFrame, DecodedMac, DecodedNwk, DecodedSecurity } from './decoded.ts';

/** What JSON.stringify would escape in a string: a quote, a backslash, a control character, a surrogate. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

const str = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
const num = (n: number): string => (Number.isFinite(n) ? `${n}` : 'null');

function macJson(m: DecodedMac): string {
  let s = `{"type":${str(m.type)}`;
  if (m.security !== undefined) s += `,"security":${m.security}`;
  if (m.framePending !== undefined) s += `,"framePending":${m.framePending}`;
  if (m.ackRequest !== undefined) s += `,"ackRequest":${m.ackRequest}`;
  if (m.panIdCompression !== undefined) s += `,"panIdCompression":${m.panIdCompression}`;
  if (m.version !== undefined) s += `,"version":${num(m.version)}`;
  if (m.fcs !== undefined) s += `,"fcs":${str(m.fcs)}`;
  if (m.fcsOk !== undefined) s += `,"fcsOk":${m.fcsOk}`;
  if (m.seq !== undefined) s += `,"seq":${num(m.seq)}`;
  if (m.dstPan !== undefined) s += `,"dstPan":${str(m.dstPan)}`;
  if (m.dst !== undefined) s += `,"dst":${str(m.dst)}`;
  if (m.srcPan !== undefined) s += `,"srcPan":${str(m.srcPan)}`;
  if (m.src !== undefined) s += `,"src":${str(m.src)}`;
  if (m.command !== undefined) s += `,"command":${str(m.command)}`;
  if (m.beacon !== undefined) s += `,"beacon":${JSON.stringify(m.beacon)}`;
  return `${s}}`;
}

function securityJson(x: DecodedSecurity): string {
  let s = `{"level":${num(x.level)},"keyId":${str(x.keyId)},"frameCounter":${num(x.frameCounter)}`;
  if (x.source !== undefined) s += `,"source":${str(x.source)}`;
  if (x.keySeq !== undefined) s += `,"keySeq":${num(x.keySeq)}`;
  return `${s}}`;
}

function nwkJson(w: DecodedNwk): string {
  let s = `{"type":${str(w.type)},"version":${num(w.version)},"secured":${w.secured}`;
  if (w.dst !== undefined) s += `,"dst":${str(w.dst)}`;
  if (w.src !== undefined) s += `,"src":${str(w.src)}`;
  if (w.radius !== undefined) s += `,"radius":${num(w.radius)}`;
  if (w.seq !== undefined) s += `,"seq":${num(w.seq)}`;
  if (w.dst64 !== undefined) s += `,"dst64":${str(w.dst64)}`;
  if (w.src64 !== undefined) s += `,"src64":${str(w.src64)}`;
  if (w.security !== undefined) s += `,"security":${securityJson(w.security)}`;
  if (w.decrypted !== undefined) s += `,"decrypted":${w.decrypted}`;
  if (w.commandId !== undefined) s += `,"commandId":${num(w.commandId)}`;
  if (w.command !== undefined) s += `,"command":${str(w.command)}`;
  if (w.commandFields !== undefined) s += `,"commandFields":${JSON.stringify(w.commandFields)}`;
  return `${s}}`;
}

function apsJson(a: DecodedAps): string {
  let s = `{"type":${str(a.type)},"delivery":${str(a.delivery)},"secured":${a.secured}`;
  if (a.group !== undefined) s += `,"group":${str(a.group)}`;
  if (a.dstEp !== undefined) s += `,"dstEp":${num(a.dstEp)}`;
  if (a.cluster !== undefined) s += `,"cluster":${str(a.cluster)}`;
  if (a.profile !== undefined) s += `,"profile":${str(a.profile)}`;
  if (a.srcEp !== undefined) s += `,"srcEp":${num(a.srcEp)}`;
  if (a.counter !== undefined) s += `,"counter":${num(a.counter)}`;
  if (a.fragment !== undefined) s += `,"fragment":${JSON.stringify(a.fragment)}`;
  if (a.security !== undefined) s += `,"security":${securityJson(a.security)}`;
  if (a.decrypted !== undefined) s += `,"decrypted":${a.decrypted}`;
  if (a.commandId !== undefined) s += `,"commandId":${num(a.commandId)}`;
  if (a.command !== undefined) s += `,"command":${str(a.command)}`;
  if (a.zdp !== undefined) s += `,"zdp":${str(a.zdp)}`;
  return `${s}}`;
}

/** JSON.stringify(frame), for a frame the decoder built. */
export function frameJson(f: DecodedFrame): string {
  let s = `{"n":${num(f.n)},"time":${str(f.time)}`;
  if (f.radio !== undefined) s += `,"radio":${JSON.stringify(f.radio)}`;
  if (f.mac !== undefined) s += `,"mac":${macJson(f.mac)}`;
  if (f.nwk !== undefined) s += `,"nwk":${nwkJson(f.nwk)}`;
  if (f.aps !== undefined) s += `,"aps":${apsJson(f.aps)}`;
  if (f.zcl !== undefined) s += `,"zcl":${JSON.stringify(f.zcl)}`;
  if (f.gbcs !== undefined) s += `,"gbcs":${JSON.stringify(f.gbcs)}`;
  if (f.error !== undefined) s += `,"error":${JSON.stringify(f.error)}`;
  return `${s},"summary":${str(f.summary)}}`;
}
