// A case's timeline as inline SVG, from its event log alone: the relay's power state as a step
// line, sniffed frames as ticks by kind, step markers and the moment the verdict was decided.
import type { CaseResult } from '../harness/case.ts';
import type { EvidenceEvent } from '../harness/evidence.ts';
import { escapeText as e } from './escape.ts';
import { elapsed, isoMs, utc } from './format.ts';
import { counted } from '../protocol/words.ts';

export const FRAME_KINDS = [
  { kind: 'ccs01', label: 'HHT CCS01 command' },
  { kind: 'ch-response', label: 'CH response' },
  { kind: 'han-read', label: 'HAN read' },
  { kind: 'response', label: 'response' },
  { kind: 'other', label: 'other' },
] as const;

export type FrameKind = (typeof FRAME_KINDS)[number]['kind'];

/** The lane a sniffed frame goes in, from its decoded summary (the event log keeps no more). */
export function frameKind(summary: string): FrameKind {
  if (/^GBCS CCS01\b.*\(command\)/.test(summary)) return 'ccs01';
  if (/^GBCS\b.*\((response|alert)\)/.test(summary)) return 'ch-response';
  if (/\bRead Attributes\b(?! Response)/.test(summary)) return 'han-read';
  if (/\bResponse\b/.test(summary)) return 'response';
  return 'other';
}

export interface DecidingMoment {
  t: string;
  /** What decided it: the measurement outside (or too close to) its limit, or the verdict itself. */
  what: string;
}

/** When the verdict was decided: the first measurement that decided a FAIL or INCONCLUSIVE, else the verdict event. */
export function decidingMoment(events: readonly EvidenceEvent[], result: CaseResult): DecidingMoment {
  const wanted = result.verdict === 'FAIL' ? 'fail' : result.verdict === 'INCONCLUSIVE' ? 'indeterminate' : undefined;
  const m = wanted && events.find((ev) => ev.kind === 'measurement' && ev.outcome === wanted);
  if (m) return { t: m.t, what: `decided by the measurement ${String(m.name)} (${wanted})` };
  const v = events.find((ev) => ev.kind === 'verdict');
  // No measurement decided it: an observation did (a frame heard or not), or every measurement passed.
  if (v) return { t: v.t, what: result.verdict === 'PASS' ? 'every check passed' : 'decided by an observation, not a measurement' };
  return { t: result.endedAt, what: `case ended (${result.verdict})` };
}

const VERDICT_COLOUR: Record<string, string> = {
  PASS: '#1b7f3b',
  FAIL: '#c62828',
  INCONCLUSIVE: '#b26a00',
  'NOT APPLICABLE': '#6b7280',
  ERROR: '#6a1b9a',
};
const KIND_COLOUR: Record<FrameKind, string> = {
  ccs01: '#1565c0',
  'ch-response': '#2e7d32',
  'han-read': '#6a1b9a',
  response: '#00838f',
  other: '#757575',
};

export function verdictColour(verdict: string): string {
  return VERDICT_COLOUR[verdict] ?? '#333';
}

const W = 960;
const LEFT = 180;
const RIGHT = 24;
const TOP = 22;
const POWER_H = 40;
const LANE_H = 18;
const AXIS_H = 28;

/** Gaps with nothing logged longer than this (and than 5% of the case) are drawn compressed. */
const COMPRESS_GAP_MS = 60_000;

interface TimeAxis {
  x(ms: number): number;
  /** The compressed gaps, in display coordinates and in time. */
  breaks: { x0: number; x1: number; from: number; to: number }[];
  /** Where a segment drawn to scale starts or ends: the axis labels go there. */
  marks: number[];
}

/**
 * A piecewise-linear time axis: hours of waiting for a window to close would squeeze the seconds
 * that decide the verdict into one pixel, so idle gaps are drawn short and marked as such.
 */
function timeAxis(times: number[], start: number, end: number, x0: number, x1: number): TimeAxis {
  const points = [...new Set([start, ...times, end])].sort((a, b) => a - b);
  const gaps = points.slice(1).map((t, i) => ({ from: points[i], to: t, d: t - points[i] }));
  const compressed = (d: number) => d > COMPRESS_GAP_MS && d > 0.05 * (end - start);
  const active = gaps.filter((g) => !compressed(g.d)).reduce((s, g) => s + g.d, 0);
  const shown = (d: number) => (compressed(d) ? Math.max(active * 0.15, 1) : d);
  const total = gaps.reduce((s, g) => s + shown(g.d), 0) || 1;
  const scale = (x1 - x0) / total;
  const at: { t: number; x: number }[] = [{ t: points[0], x: x0 }];
  const breaks: TimeAxis['breaks'] = [];
  const marks = [points[0]];
  for (const g of gaps) {
    const xa = at[at.length - 1].x;
    const xb = xa + shown(g.d) * scale;
    at.push({ t: g.to, x: xb });
    if (compressed(g.d)) {
      breaks.push({ x0: xa, x1: xb, from: g.from, to: g.to });
      marks.push(g.from, g.to);
    }
  }
  marks.push(points[points.length - 1]);
  const x = (ms: number) => {
    if (!(ms > at[0].t)) return at[0].x;
    if (ms > at[at.length - 1].t) return at[at.length - 1].x;
    // The first point at or after ms, by bisection: a chatty device's case has tens of thousands of points.
    let lo = 1;
    let hi = at.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid].t < ms) lo = mid + 1;
      else hi = mid;
    }
    return at[lo - 1].x + ((ms - at[lo - 1].t) / (at[lo].t - at[lo - 1].t || 1)) * (at[lo].x - at[lo - 1].x);
  };
  return { x, breaks, marks: [...new Set(marks)] };
}

/** What every layer of one case's timeline draws against: its time scale and its lanes. */
interface Frame {
  events: readonly EvidenceEvent[];
  /** x of an ISO time. */
  x: (t: string) => number;
  /** An ISO time as UTC and as elapsed since the case's start, for tooltips. */
  at: (t: string) => string;
  powerDevices: string[];
  lanesTop: number;
  bottom: number;
}

/** The figure, and how it drew the frames (for the words under it when it had to summarise). */
export function timelineFigure(events: readonly EvidenceEvent[], result: CaseResult): { svg: string; frames?: FrameDrawing } {
  // Marks point at moments of the requirement (a window's end, a deadline), which may lie after the case ended.
  const marks = events.filter((ev) => ev.kind === 'mark' && typeof ev.at === 'string');
  const times = [...events.map((ev) => isoMs(ev.t)), ...marks.map((ev) => isoMs(String(ev.at)))].filter(Number.isFinite);
  // Loops, not spreads: a flooding device can leave more events than the call stack takes arguments.
  const start = times.reduce((m, t) => Math.min(m, t), isoMs(result.startedAt));
  let end = times.reduce((m, t) => Math.max(m, t), isoMs(result.endedAt));
  if (!Number.isFinite(start)) return { svg: `<p class="timeline-missing">No timeline: the event log has no timed events.</p>` };
  if (!(end > start)) end = start + 1000;
  const axis = timeAxis(times, start, end, LEFT, W - RIGHT);
  // One power lane per device the relays switched (usually one).
  const powerDevices = [...new Set(events.filter((ev) => ev.kind.startsWith('power-')).map((ev) => String(ev.device ?? 'relay')))];
  const lanesTop = TOP + powerDevices.length * POWER_H;
  const f: Frame = {
    events,
    x: (t) => axis.x(isoMs(t)),
    at: (t) => `${utc(t)} (${elapsed(isoMs(t) - start)})`,
    powerDevices,
    lanesTop,
    bottom: lanesTop + FRAME_KINDS.length * LANE_H,
  };
  // Room under the axis for the requirement marks' labels, then the line that says what decided the verdict.
  const frames = frameDrawing(events, f.x);
  const decisionY = f.bottom + AXIS_H + (marks.length > 0 ? 24 : 10);
  const height = decisionY + 6;
  const parts = [
    ...gapLayer(axis.breaks, f),
    ...powerLanes(f),
    ...frameLanes(f, frames),
    ...stepMarkers(f),
    ...requirementMarks(marks, f),
    decisionMarker(result, f, decisionY),
    ...axisLayer(axis, start, end, f),
  ];
  const label = `Timeline of ${result.id} on ${result.bench}: relay power, frames by kind, steps and the deciding moment`;
  const svg = `<svg class="timeline" data-case="${e(result.id)}" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="${e(label)}" font-family="system-ui, sans-serif" font-size="11"><title>${e(label)}</title>${parts.join('')}</svg>`;
  return { svg, frames };
}

/** Stretches with nothing logged, drawn compressed, marked as such. */
function gapLayer(breaks: readonly { x0: number; x1: number; from: number; to: number }[], f: Frame): string[] {
  return breaks.map((b) => {
    const mid = (b.x0 + b.x1) / 2;
    return `<g class="gap"><rect x="${b.x0.toFixed(1)}" y="${TOP - 4}" width="${(b.x1 - b.x0).toFixed(1)}" height="${f.bottom - TOP + 4}" fill="#f4f4f4"/><path d="M${(mid - 5).toFixed(1)},${f.bottom + 16} l4,-12 M${(mid + 1).toFixed(1)},${f.bottom + 16} l4,-12" stroke="#666"/><title>${e(`${elapsed(b.to - b.from).slice(1)} with nothing logged, drawn compressed (${utc(new Date(b.from).toISOString())} to ${utc(new Date(b.to).toISOString())})`)}</title></g>`;
  });
}

/** Each switched device's confirmed power states as a step line, and every command as a dot. */
function powerLanes(f: Frame): string[] {
  const parts: string[] = [];
  f.powerDevices.forEach((device, i) => {
    const y = TOP + i * POWER_H;
    const on = y + 4;
    const off = y + POWER_H - 12;
    const mine = f.events.filter((ev) => String(ev.device ?? 'relay') === device);
    const relay = String(mine.find((ev) => ev.relay)?.relay ?? '');
    parts.push(`<text class="lane-label" x="6" y="${y + POWER_H / 2}">relay power ${e(device)}</text>`);
    parts.push(
      `<text class="level" x="${LEFT - 8}" y="${on + 4}" text-anchor="end">ON</text><text class="level" x="${LEFT - 8}" y="${off + 4}" text-anchor="end">OFF</text>`,
    );
    let d = '';
    let level: number | undefined;
    for (const ev of mine) {
      if (ev.kind !== 'power-confirmed') continue;
      const yNew = ev.state === 'ON' ? on : off;
      const xs = f.x(ev.t).toFixed(1);
      d += level === undefined ? `M${xs},${yNew}` : `H${xs}V${yNew}`;
      level = yNew;
    }
    if (level !== undefined) {
      d += `H${(W - RIGHT).toFixed(1)}`;
      parts.push(
        `<path class="power" data-device="${e(device)}" d="${d}" fill="none" stroke="#111" stroke-width="2"><title>${e(`relay ${relay}: confirmed states`)}</title></path>`,
      );
    }
    // Commands are drawn too: one with no confirmation after it is what an INCONCLUSIVE looks like.
    for (const ev of mine) {
      if (ev.kind !== 'power-command') continue;
      parts.push(
        `<circle class="power-command" cx="${f.x(ev.t).toFixed(1)}" cy="${(on + off) / 2}" r="3" fill="#fff" stroke="#111"><title>${e(`power ${ev.state} commanded at ${f.at(ev.t)} (${relay})`)}</title></circle>`,
      );
    }
  });
  return parts;
}

/** Frames drawn one by one at most: beyond, the figure draws bins with counts, so its size does not grow with the device's traffic. */
export const MAX_FRAME_MARKS = 300;
/** Of those, at most this many cited or decisive frames are drawn one by one beside the bins. */
export const MAX_CITED_FRAMES = 60;
/** A bin's width in the figure: at most (W − LEFT − RIGHT) / BIN_W bins per lane. */
const BIN_W = 12;
/** A frame this close to a measurement is drawn one by one: it may be the one the measurement timed. */
const NEAR_MEASUREMENT_MS = 1000;

export interface FrameBin {
  kind: FrameKind;
  /** Left edge in the figure. */
  x0: number;
  count: number;
  /** First and last frame of the bin, in bench time (ms) and by number. */
  from: number;
  to: number;
  firstN: unknown;
  lastN: unknown;
}

/** How a timeline drew its frames: every one, or (a chatty device) the cited ones one by one and the rest as bins. */
export interface FrameDrawing {
  total: number;
  /** Frames drawn one by one. */
  single: EvidenceEvent[];
  /** Frames counted in bins: by lane, as counts. */
  binned: Record<FrameKind, { frames: number; bins: number }>;
  bins: FrameBin[];
}

/**
 * Frames a verdict rests on: those another event cites by number (`frame`, or `frames` as a list: what was observed, a liveness check),
 * then those within a second of a measurement, nearest first; at most MAX_CITED_FRAMES.
 */
function citedFrames(frames: readonly EvidenceEvent[], events: readonly EvidenceEvent[]): Set<EvidenceEvent> {
  const cited = new Set<unknown>();
  for (const ev of events) {
    if (ev.kind === 'frame') continue;
    if (typeof ev.frame === 'number') cited.add(ev.frame);
    // `frames` as a list of numbers cites them; as a number it is a count (hht-han-question).
    if (Array.isArray(ev.frames)) for (const n of ev.frames) cited.add(n);
  }
  const chosen = frames.filter((f) => cited.has(f.n)).slice(0, MAX_CITED_FRAMES);
  const measured = events.filter((ev) => ev.kind === 'measurement').map((ev) => isoMs(ev.t));
  const distance = (f: EvidenceEvent) => measured.reduce((d, m) => Math.min(d, Math.abs(isoMs(f.t) - m)), Infinity);
  const near = frames
    .filter((f) => !cited.has(f.n))
    .map((f) => ({ f, d: distance(f) }))
    .filter((x) => x.d <= NEAR_MEASUREMENT_MS)
    .sort((a, b) => a.d - b.d);
  for (const { f } of near.slice(0, MAX_CITED_FRAMES - chosen.length)) chosen.push(f);
  return new Set(chosen);
}

/** Every frame one by one when they are few; else the cited ones one by one and the rest counted per lane in bins BIN_W wide. */
export function frameDrawing(events: readonly EvidenceEvent[], x: (t: string) => number): FrameDrawing {
  const frames = events.filter((ev) => ev.kind === 'frame');
  const binned = Object.fromEntries(FRAME_KINDS.map((k) => [k.kind, { frames: 0, bins: 0 }])) as FrameDrawing['binned'];
  if (frames.length <= MAX_FRAME_MARKS) return { total: frames.length, single: frames, binned, bins: [] };
  const cited = citedFrames(frames, events);
  const bins = new Map<string, FrameBin>();
  for (const ev of frames) {
    if (cited.has(ev)) continue;
    const kind = frameKind(String(ev.summary ?? ''));
    // A frame at the very end goes in the last bin, not one past the plot.
    const column = Math.min(Math.floor((x(ev.t) - LEFT) / BIN_W), Math.ceil((W - LEFT - RIGHT) / BIN_W) - 1);
    const key = `${kind} ${column}`;
    const t = isoMs(ev.t);
    const bin = bins.get(key);
    if (bin) {
      bin.count++;
      bin.to = Math.max(bin.to, t);
      bin.lastN = ev.n;
    } else bins.set(key, { kind, x0: LEFT + column * BIN_W, count: 1, from: t, to: t, firstN: ev.n, lastN: ev.n });
    binned[kind].frames++;
  }
  for (const bin of bins.values()) binned[bin.kind].bins++;
  return { total: frames.length, single: frames.filter((f) => cited.has(f)), binned, bins: [...bins.values()] };
}

/** One lane per kind of frame: a tick per frame drawn one by one, a bar per bin as high as its share of the lane's fullest bin. */
function frameLanes(f: Frame, drawing: FrameDrawing): string[] {
  const parts = FRAME_KINDS.flatMap(({ label }, i) => {
    const y = f.lanesTop + i * LANE_H;
    return [
      `<text class="lane-label" x="${LEFT - 8}" y="${y + 13}" text-anchor="end">${e(label)}</text>`,
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y + LANE_H / 2}" y2="${y + LANE_H / 2}" stroke="#eee"/>`,
    ];
  });
  const laneY = (kind: FrameKind) => f.lanesTop + FRAME_KINDS.findIndex((k) => k.kind === kind) * LANE_H;
  const fullest = new Map<FrameKind, number>();
  for (const b of drawing.bins) fullest.set(b.kind, Math.max(fullest.get(b.kind) ?? 0, b.count));
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const b of drawing.bins) {
    const h = Math.max(2, ((LANE_H - 4) * b.count) / fullest.get(b.kind)!);
    const y = laneY(b.kind) + LANE_H - 2 - h;
    const label = FRAME_KINDS.find((k) => k.kind === b.kind)!.label;
    const span = b.count === 1 ? f.at(iso(b.from)) : `${f.at(iso(b.from))} to ${f.at(iso(b.to))}`;
    parts.push(
      `<rect class="frame-bin" data-kind="${b.kind}" data-count="${b.count}" x="${b.x0.toFixed(1)}" y="${y.toFixed(1)}" width="${BIN_W - 1}" height="${h.toFixed(1)}" fill="${KIND_COLOUR[b.kind]}"><title>${e(`${counted(b.count, `${label} frame`)} (#${b.firstN ?? '?'}–#${b.lastN ?? '?'}), ${span}`)}</title></rect>`,
    );
  }
  // Beside bins, a frame drawn one by one is one the verdict rests on: drawn dark, over the bars, to stand out.
  const cited = drawing.bins.length > 0;
  for (const ev of drawing.single) {
    const summary = String(ev.summary ?? '');
    const kind = frameKind(summary);
    const y = laneY(kind);
    const xs = f.x(ev.t).toFixed(1);
    parts.push(
      `<line class="frame" data-kind="${kind}"${cited ? ' data-cited="true"' : ''} x1="${xs}" x2="${xs}" y1="${y + (cited ? 0 : 2)}" y2="${y + LANE_H - (cited ? 0 : 2)}" stroke="${cited ? '#111' : KIND_COLOUR[kind]}" stroke-width="2"><title>${e(`#${ev.n ?? '?'} ${summary} — ${f.at(ev.t)}`)}</title></line>`,
    );
  }
  return parts;
}

/** The case's numbered steps. */
function stepMarkers(f: Frame): string[] {
  return f.events
    .filter((ev) => ev.kind === 'step')
    .map((ev, i) => {
      const xs = f.x(ev.t).toFixed(1);
      return `<g class="step-marker" data-step="${i + 1}"><line x1="${xs}" x2="${xs}" y1="${TOP - 6}" y2="${f.bottom}" stroke="#999" stroke-dasharray="3,3"/><text x="${xs}" y="${TOP - 9}" text-anchor="middle">${i + 1}</text><title>${e(`step ${i + 1}: ${String(ev.name ?? '')} — ${f.at(ev.t)}`)}</title></g>`;
    });
}

/** Moments of the requirement (a window's end, a deadline). */
function requirementMarks(marks: readonly EvidenceEvent[], f: Frame): string[] {
  return marks.map((ev) => {
    const xs = f.x(String(ev.at)).toFixed(1);
    const anchor = Number(xs) > W - RIGHT - 80 ? 'end' : Number(xs) < LEFT + 80 ? 'start' : 'middle';
    return `<g class="requirement-mark"><line x1="${xs}" x2="${xs}" y1="${TOP - 4}" y2="${f.bottom}" stroke="#d97706" stroke-width="1.5" stroke-dasharray="6,3"/><text x="${xs}" y="${f.bottom + 36}" text-anchor="${anchor}" fill="#b45309">${e(String(ev.label ?? ''))}</text><title>${e(`${String(ev.label ?? '')}: ${f.at(String(ev.at))}`)}</title></g>`;
  });
}

/** The moment the verdict was decided, in the verdict's colour, and in words under the axis: what decided it. */
function decisionMarker(result: CaseResult, f: Frame, labelY: number): string {
  const decided = decidingMoment(f.events, result);
  const colour = verdictColour(result.verdict);
  const xd = f.x(decided.t).toFixed(1);
  const anchor = Number(xd) > W - RIGHT - 160 ? 'end' : Number(xd) < LEFT + 160 ? 'start' : 'middle';
  return `<g class="decision" data-verdict="${e(result.verdict)}"><line x1="${xd}" x2="${xd}" y1="${TOP - 4}" y2="${f.bottom}" stroke="${colour}" stroke-width="3" opacity="0.7"/><polygon points="${xd},${f.bottom + 1} ${Number(xd) - 5},${f.bottom + 8} ${Number(xd) + 5},${f.bottom + 8}" fill="${colour}"/><text class="decision-label" x="${xd}" y="${labelY}" text-anchor="${anchor}" fill="${colour}" font-weight="600">${e(`${result.verdict}: ${decided.what}`)}</text><title>${e(`${result.verdict} decided at ${f.at(decided.t)}: ${decided.what}`)}</title></g>`;
}

/** Elapsed time from the start of the case at the ends of every stretch drawn to scale. */
function axisLayer(axis: { x: (ms: number) => number; marks: number[] }, start: number, end: number, f: Frame): string[] {
  const bottom = f.bottom;
  const parts = [`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${bottom + 10}" y2="${bottom + 10}" stroke="#333"/>`];
  const xEnd = axis.x(end);
  let lastLabel = -Infinity;
  for (const t of axis.marks) {
    const xs = axis.x(t);
    parts.push(`<line x1="${xs.toFixed(1)}" x2="${xs.toFixed(1)}" y1="${bottom + 10}" y2="${bottom + 14}" stroke="#333"/>`);
    // First and last always labelled; others only where they do not collide.
    if (t !== end && (xs - lastLabel < 70 || xEnd - xs < 70)) continue;
    const anchor = xs < LEFT + 30 ? 'start' : xs > W - RIGHT - 30 ? 'end' : 'middle';
    parts.push(`<text class="tick" x="${xs.toFixed(1)}" y="${bottom + 25}" text-anchor="${anchor}">${e(elapsed(t - start))}</text>`);
    lastLabel = xs;
  }
  return parts;
}
