// What the `ot-rcp` rig radio (drivers/radio/ot-rcp.ts) and sniffer (drivers/sniffer/ot-rcp.ts)
// share over their Spinel session: opening an OpenThread RCP (reset, protocol version, firmware
// version, capabilities, factory address) and turning its received STREAM_RAW frames into
// SniffedFrames on a FrameFeed, with lost frames (bad FCS, receive errors, framing defects) reported.
import { Reader, hex } from '../protocol/bytes.ts';
import {
  MD_FLAG,
  SPINEL_CAP,
  SPINEL_CMD,
  SPINEL_PROP,
  SPINEL_PROTOCOL_VERSION,
  decodeRawReceived,
  readPacked,
  readPackedList,
  readProperty,
  readUtf8,
  rxErrorName,
  type RawReceived,
} from '../protocol/spinel.ts';
import { RigFault } from './faults.ts';
import { openSerialLink, silentLog, type DriverLog, type SerialBinding, type SerialLocation } from './serial.ts';
import { FrameFeed } from './sniffer/frame-feed.ts';
import type { SniffedFrame, UnreadInput } from './sniffer/sniffer.ts';
import { SpinelSession } from './spinel-session.ts';

/** The baud rate of a UART-attached RCP when the rig file names none (USB CDC dongles ignore it). */
export const DEFAULT_RCP_BAUD_RATE = 460_800;

/** What to flash, for the fix of a fault about the firmware. */
export const FLASH_OT_RCP =
  "Flash OpenThread's ot-rcp (the radio co-processor build, not ot-cli or ot-ncp): e.g. ot-rcp for the nRF52840 dongle " +
  "(nrfutil), the CC2652/CC1352 ot-rcp from TI's SDK or a zigbee-on-host build, the EFR32 ot-rcp from Silicon Labs' Simplicity SDK.";

/** Who the RCP says it is: the report's test equipment records it. */
export interface RcpIdentity {
  protocol: { major: number; minor: number };
  /** NCP_VERSION, e.g. `OPENTHREAD/thread-reference-20230706; NRF52840; Jul 10 2024 10:00:00`. */
  ncpVersion: string;
  caps: number[];
  /** Its factory EUI-64 (HWADDR), colon-separated, most significant byte first. */
  hwaddr: string;
}

export interface RcpOpening {
  where: string;
  role: 'radio' | 'sniffer';
  binding?: SerialBinding;
  baudRate?: number;
  log?: DriverLog;
  replyTimeoutMs?: number;
}

/** Opens the serial line, resets the RCP and checks it is one the rig can drive; the session is closed again on any refusal. */
export async function openRcp(location: SerialLocation, o: RcpOpening): Promise<{ session: SpinelSession; identity: RcpIdentity }> {
  const log = o.log ?? silentLog;
  const link = await openSerialLink(location, {
    role: o.role,
    where: o.where,
    binding: o.binding,
    baudRate: o.baudRate ?? DEFAULT_RCP_BAUD_RATE,
    log,
  });
  const session = new SpinelSession(link, { where: o.where, role: o.role, log, replyTimeoutMs: o.replyTimeoutMs });
  try {
    await session.reset();
    const identity = await identifyRcp(session, o.role);
    log.info('OpenThread RCP identified', { where: o.where, ...identity, caps: identity.caps.join(' ') });
    return { session, identity };
  } catch (error) {
    await session.close();
    throw error;
  }
}

/** PROTOCOL_VERSION (major 4), NCP_VERSION, CAPS (CONFIG_RADIO and MAC_RAW, as OpenThread's own host demands) and HWADDR. */
export async function identifyRcp(session: SpinelSession, role: 'radio' | 'sniffer'): Promise<RcpIdentity> {
  const kind = role === 'radio' ? 'radio-unavailable' : 'sniffer-unavailable';
  const version = new Reader(await session.get(SPINEL_PROP.PROTOCOL_VERSION));
  const protocol = { major: readPacked(version, 'protocol_version.major'), minor: readPacked(version, 'protocol_version.minor') };
  const ncpVersion = readUtf8(await session.get(SPINEL_PROP.NCP_VERSION));
  if (protocol.major !== SPINEL_PROTOCOL_VERSION.major) {
    throw new RigFault(
      kind,
      session.where,
      `speaks Spinel ${protocol.major}.${protocol.minor} (firmware "${ncpVersion}"); the rig speaks ${SPINEL_PROTOCOL_VERSION.major}.x`,
      FLASH_OT_RCP,
    );
  }
  const caps = readPackedList(await session.get(SPINEL_PROP.CAPS), 'caps');
  const missing = (['CONFIG_RADIO', 'MAC_RAW'] as const).filter((cap) => !caps.includes(SPINEL_CAP[cap]));
  if (missing.length) {
    throw new RigFault(
      kind,
      session.where,
      `firmware "${ncpVersion}" lacks ${missing.join(' and ')} in its CAPS (${caps.join(' ')}): it is not a radio co-processor`,
      FLASH_OT_RCP,
    );
  }
  const hw = await session.get(SPINEL_PROP.HWADDR);
  return { protocol, ncpVersion, caps, hwaddr: [...hw.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(':') };
}

/**
 * Received-frame reports in a row that lost a frame (framing defects, receive errors) before the
 * RCP counts as garbled: as for the nRF sniffer's unreadable lines (drivers/sniffer/nrf802154.ts).
 */
export const LOST_FRAME_LIMIT = 16;

export interface RcpReceiverOptions {
  where: string;
  log: DriverLog;
  now: () => number;
  /** The channel the host tuned to: a frame's label when the RCP's PHY data carries none. */
  channel: () => number | undefined;
  /** Whether frames are to be reported now (the radio's receive(on)); default always. */
  reporting?: () => boolean;
  /** LOST_FRAME_LIMIT lost frames in a row: the kind decides whether that is a fault. */
  garbled?: (fault: RigFault) => void;
}

/** STREAM_RAW frames from a session to a FrameFeed; what was lost to `onUnread` listeners. */
export class RcpReceiver {
  readonly feed: FrameFeed;
  #unread = new Set<(input: UnreadInput) => void>();
  #lostRun = 0;

  constructor(
    session: SpinelSession,
    private readonly o: RcpReceiverOptions,
  ) {
    this.feed = new FrameFeed({ where: o.where, log: o.log, now: o.now, position: () => ({ received: session.received, caughtUp: true }) });
    session.onUnsolicited((frame, unit) => {
      const property = frame.command === SPINEL_CMD.PROP_VALUE_IS ? readProperty(frame.payload) : undefined;
      if (property?.prop !== SPINEL_PROP.STREAM_RAW) {
        o.log.info('unsolicited spinel frame', { where: o.where, command: frame.command, prop: property?.prop, unit });
        return;
      }
      this.#onRaw(property.value, unit);
    });
    session.onDefect((d) => this.#lost(d.unit, d.reason, d.raw));
    session.onParsed(() => this.feed.settleDrains());
    session.onFault((fault) => this.feed.end(fault));
  }

  onUnread(listener: (input: UnreadInput) => void): () => void {
    this.#unread.add(listener);
    return () => this.#unread.delete(listener);
  }

  #onRaw(value: Uint8Array, unit: number): void {
    let raw: RawReceived;
    try {
      raw = decodeRawReceived(value);
    } catch (error) {
      return this.#lost(unit, `STREAM_RAW unreadable: ${(error as Error).message}`, value);
    }
    // An RCP reports a frame it could not receive as an empty PSDU with the error (OpenThread's PackRadioFrame).
    if (raw.rxError) return this.#lost(unit, `receive error ${rxErrorName(raw.rxError)}`, raw.psdu);
    if (raw.flags & MD_FLAG.BAD_FCS) return this.#lost(unit, 'bad FCS', raw.psdu);
    if (raw.psdu.length < 3) return this.#lost(unit, `a ${raw.psdu.length}-byte PSDU`, raw.psdu);
    this.#lostRun = 0;
    if (this.o.reporting && !this.o.reporting()) return;
    // The RCP's µs clock; a firmware that leaves it zero is stamped with bench time on arrival.
    const snifferUs = raw.timestampUs ? raw.timestampUs : BigInt(Math.round(this.o.now() * 1000));
    const frame: SniffedFrame = {
      // The last two bytes are the FCS position (filled or not, per radio): the rest is the MAC frame.
      frame: raw.psdu.slice(0, raw.psdu.length - 2),
      rssi: raw.rssi,
      lqi: raw.lqi ?? 0,
      channel: raw.channel || (this.o.channel() ?? 0),
      snifferUs,
      line: unit,
    };
    this.feed.publish(frame);
  }

  #lost(unit: number, reason: string, raw: Uint8Array): void {
    const preview = hex(raw.subarray(0, 24)) + (raw.length > 24 ? '…' : '');
    const input: UnreadInput = { line: unit, text: Buffer.from(raw).toString('latin1'), reason, preview, malformed: true };
    for (const listener of this.#unread) listener(input);
    if (++this.#lostRun >= LOST_FRAME_LIMIT && this.o.garbled) {
      this.o.garbled(
        new RigFault(
          'sniffer-garbled',
          this.o.where,
          `${this.#lostRun} frames in a row could not be read (last: ${reason}, ${preview || 'no bytes'})`,
          "Check the RCP runs OpenThread's ot-rcp at the rig's baud rate and its USB link is sound (re-plug, another cable or port); " +
            'frames were lost, so re-run the test.',
        ),
      );
    }
  }
}
