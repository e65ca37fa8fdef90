/*
 * gbcs-observe line protocol, version 1
 * ======================================
 * Only some facts are on the air: what an IHD or PPMID still holds after a Change of Tenancy
 * (DOMAIN.md §B, COT-4/COT-5/COT-7) is not. A vendor who gives the rig a serial debug port
 * (USB CDC or UART, 115200 8N1 unless the rig file says otherwise) lets the rig ask the device
 * itself. Text lines; the host ends commands with "\r\n"; the device ends lines with "\r\n" (a
 * bare "\n" is accepted both ways). The host asserts DTR; a UART may ignore it.
 *
 * Every command gets exactly one answer, in the order the commands were sent. An answer is one
 * line, except for `hold all`, whose answer is several lines ending with `end`.
 *
 * host → device                 answer
 *   hello                       gbcs-observe <protocol version> <free text: device, firmware>
 *                               e.g. "gbcs-observe 1 acme ihd-3 fw 2.4.1"
 *   hold <kind>                 held <kind> count=<n> [earliest=<time>] [latest=<time>]
 *                               | err <reason>
 *   hold all                    one `held` line for each of the four kinds (any order), then
 *                               end
 *                               | err <reason>   (instead of the whole answer)
 *
 *   <kind>   consumption-history   historic consumption data
 *            top-ups               top-up history
 *            debt                  debt recovery information
 *            messages              supplier messages
 *   <n>      how many entries of that kind the device holds now (decimal, 0 when none or when
 *            the device does not store that kind)
 *   <time>   when the device recorded its oldest (earliest) and newest (latest) entry of that
 *            kind: ISO 8601 UTC, "2026-11-21T10:00:00Z", with up to 6 fraction digits
 *            ("…:00.123Z"); given only when count > 0; earliest ≤ latest; equal when count = 1.
 *            Either may be left out by a device that does not keep recording times.
 *   fields come in the order shown, separated by one or more spaces; nothing else on the line.
 *
 *   err <reason>   refused; <reason> is free text for a person (e.g. "err locked").
 *
 * Any other line from the device (boot banner, log output) is not an answer: the host counts and
 * logs it. An answer that starts like one but breaks these rules (e.g. "held debt count=-1") is
 * malformed: the host counts and logs it, and the command it answers yields no facts (the test is
 * INCONCLUSIVE, never FAIL). A command not answered within the host's timeout leaves host and
 * device out of step: the host then treats the port as unavailable until it is reopened.
 */

import { isoFromMsShort } from '../../protocol/iso-time.ts';

export const OBSERVE_PROTOCOL_NAME = 'gbcs-observe';
export const OBSERVE_PROTOCOL_VERSION = 1;

/** The kinds of data COT-4 says must be cleared, as the protocol names them. */
export const HELD_KINDS = ['consumption-history', 'top-ups', 'debt', 'messages'] as const;
export type HeldKind = (typeof HELD_KINDS)[number];

/** Each kind in DOMAIN.md's words, for evidence and reports. */
export const HELD_KIND_TITLES: Record<HeldKind, string> = {
  'consumption-history': 'historic consumption data',
  'top-ups': 'top-up history',
  debt: 'debt recovery information',
  messages: 'supplier messages',
};

export const isHeldKind = (word: string): word is HeldKind => (HELD_KINDS as readonly string[]).includes(word);

/** What the device holds of one kind now. Times are ms since the Unix epoch (UTC), null when not given. */
export interface Holding {
  kind: HeldKind;
  count: number;
  earliestRecordedAt: number | null;
  latestRecordedAt: number | null;
}

export type Holdings = Record<HeldKind, Holding>;

export type ObservationCommand = { kind: 'hello' } | { kind: 'hold'; what: HeldKind | 'all' };

/** The command line without its terminator. */
export function formatObservationCommand(command: ObservationCommand): string {
  return command.kind === 'hello' ? 'hello' : `hold ${command.what}`;
}

export type ObservationAnswer =
  | { kind: 'hello'; protocol: number; description: string }
  | { kind: 'held'; holding: Holding }
  | { kind: 'end' }
  | { kind: 'err'; reason: string }
  /** Starts like an answer but breaks the protocol: counted, logged, never trusted. */
  | { kind: 'malformed'; reason: string };

/** An answer line, or undefined for any other line (stray output is not an answer). */
export function parseObservationAnswer(line: string): ObservationAnswer | undefined {
  const text = line.trim();
  const [first = '', ...rest] = text.split(/\s+/);
  switch (first) {
    case 'end':
      return rest.length ? { kind: 'malformed', reason: '"end" takes nothing after it' } : { kind: 'end' };
    case 'err':
      return { kind: 'err', reason: text.slice(3).trim() || 'no reason given' };
    case OBSERVE_PROTOCOL_NAME: {
      const version = rest[0] ?? '';
      if (!/^[1-9]\d{0,5}$/.test(version))
        return { kind: 'malformed', reason: `protocol version "${version}" is not a positive whole number` };
      return { kind: 'hello', protocol: Number(version), description: text.slice(first.length).trim().slice(version.length).trim() };
    }
    case 'held': {
      const parsed = parseHeldFields(rest);
      return typeof parsed === 'string' ? { kind: 'malformed', reason: parsed } : { kind: 'held', holding: parsed };
    }
    default:
      return undefined;
  }
}

/** The words after "held": a Holding, or why they are malformed. */
function parseHeldFields(words: string[]): Holding | string {
  const [kind = '', count = '', ...times] = words;
  if (!isHeldKind(kind)) return `unknown kind "${kind}" (expected ${HELD_KINDS.join(' | ')})`;
  const n = /^count=(0|[1-9]\d{0,14})$/.exec(count);
  if (!n) return `"${count}" is not count=<whole number>`;
  const holding: Holding = { kind, count: Number(n[1]), earliestRecordedAt: null, latestRecordedAt: null };
  // Fixed order: earliest before latest, each at most once.
  const expected = ['earliest', 'latest'];
  for (const field of times) {
    const m = /^(earliest|latest)=(.*)$/.exec(field);
    if (!m) return `unexpected field "${field}"`;
    while (expected.length && expected[0] !== m[1]) expected.shift();
    if (!expected.length) return `"${m[1]}" is repeated or out of order`;
    expected.shift();
    const at = parseHeldTime(m[2]);
    if (at === undefined) return `${m[1]}="${m[2]}" is not an ISO 8601 UTC time (e.g. 2026-11-21T10:00:00Z)`;
    if (m[1] === 'earliest') holding.earliestRecordedAt = at;
    else holding.latestRecordedAt = at;
  }
  const { count: c, earliestRecordedAt: e, latestRecordedAt: l } = holding;
  if (c === 0 && (e !== null || l !== null)) return 'count=0 with a recording time: nothing is held, so nothing was recorded';
  if (e !== null && l !== null && e > l) return 'earliest is after latest';
  if (c === 1 && e !== null && l !== null && e !== l) return 'count=1 but earliest and latest differ';
  return holding;
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;

/** ISO 8601 UTC → ms since the epoch (fraction kept to the µs); undefined unless it is a real instant. */
export function parseHeldTime(text: string): number | undefined {
  const m = ISO_UTC.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 30 February over into March: a date that does not round-trip is not a date.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  )
    return undefined;
  // In µs first: an integer, exact until about the year 2255, so the one rounding is the last.
  return (ms * 1000 + Number((m[7] ?? '').padEnd(6, '0'))) / 1000;
}

/** ms since the epoch → the protocol's time (ms digits; µs digits only when there is a fraction of a ms). */
export function formatHeldTime(ms: number): string {
  return isoFromMsShort(ms);
}

/** The `held` answer line for one kind (without its terminator): what a device sends. */
export function formatHeldLine(holding: Holding): string {
  const times = [
    holding.earliestRecordedAt !== null ? ` earliest=${formatHeldTime(holding.earliestRecordedAt)}` : '',
    holding.latestRecordedAt !== null ? ` latest=${formatHeldTime(holding.latestRecordedAt)}` : '',
  ].join('');
  return `held ${holding.kind} count=${holding.count}${times}`;
}
