/*
 * gbcs-rig radio line protocol, version 1
 * =======================================
 * The rig radio (the hand held terminal role) is an 802.15.4 radio on a serial line (USB CDC or
 * UART). Text lines; the host ends commands with "\r\n"; the radio ends lines with "\r\n" (a bare
 * "\n" is accepted both ways). The host asserts DTR. Hex is case-insensitive; the radio answers in
 * lower case.
 *
 * Every command gets exactly one answer, in the order the commands were sent:
 *   ok                        done
 *   err <reason>              refused; <reason> is free text for a person (e.g. "err channel busy")
 *
 * host → radio                          answer
 *   version                             gbcs-rig-radio <protocol version> <free text: board, build>
 *                                       e.g. "gbcs-rig-radio 1 nrf52840 build 2024-05-01"
 *   channel <11..26>                    ok | err <reason>
 *   ieee <16 hex digits>                ok | err <reason>   IEEE address, most significant byte first
 *                                                           (as in 00:0d:6f:…); used for address
 *                                                           recognition and automatic MAC ACKs
 *   pan <4 hex digits>                  ok | err <reason>   PAN id for address recognition (optional)
 *   receive on | receive off            ok | err <reason>   report received frames, or stop
 *   tx <hex PSDU without FCS>           ok | err <reason>   1..125 bytes; the radio appends the FCS,
 *                                                           answers ok once the frame is on air
 *                                                           (e.g. "err channel busy" after CCA fails)
 *
 * radio → host, at any time while receiving (between answers, never inside one line):
 *   received: <hex PSDU + 2 trailing bytes> power: <dBm> lqi: <0..255> time: <µs since boot>
 *   exactly the nRF Sniffer for 802.15.4 frame line (PROTOCOL.md §1): the 2 trailing bytes are
 *   link-quality data, not an FCS; time is a 64-bit µs counter.
 *
 * Any other line from the radio (boot banner, log output) is not an answer: the host counts and
 * logs it. A command not answered within the host's timeout leaves host and radio out of step:
 * the host then treats the radio as unavailable until it is reopened.
 */

export const RADIO_PROTOCOL_NAME = 'gbcs-rig-radio';
export const RADIO_PROTOCOL_VERSION = 1;
/** 127-byte PSDU maximum minus the 2-byte FCS the radio appends. */
export const MAX_TX_PSDU = 125;

export type RadioCommand =
  | { kind: 'version' }
  | { kind: 'channel'; channel: number }
  | { kind: 'ieee'; ieee: string }
  | { kind: 'pan'; pan: number }
  | { kind: 'receive'; on: boolean }
  | { kind: 'tx'; psdu: Uint8Array };

/** The command line without its terminator. */
export function formatRadioCommand(command: RadioCommand): string {
  switch (command.kind) {
    case 'version':
      return 'version';
    case 'channel':
      return `channel ${command.channel}`;
    case 'ieee':
      return `ieee ${command.ieee}`;
    case 'pan':
      return `pan ${command.pan.toString(16).padStart(4, '0')}`;
    case 'receive':
      return `receive ${command.on ? 'on' : 'off'}`;
    case 'tx':
      return `tx ${Buffer.from(command.psdu).toString('hex')}`;
  }
}

export type RadioAnswer = { kind: 'ok' } | { kind: 'err'; reason: string } | { kind: 'version'; protocol: number; description: string };

/** An answer line, or undefined for any other line (frames and stray output are not answers). */
export function parseRadioAnswer(line: string): RadioAnswer | undefined {
  const text = line.trim();
  if (text === 'ok') return { kind: 'ok' };
  const err = /^err(?:\s+(.*))?$/.exec(text);
  if (err) return { kind: 'err', reason: err[1]?.trim() || 'no reason given' };
  const version = /^gbcs-rig-radio\s+(\d+)(?:\s+(.*))?$/.exec(text);
  if (version) return { kind: 'version', protocol: Number(version[1]), description: version[2]?.trim() ?? '' };
  return undefined;
}

/** `00:0d:6f:…` or 16 hex digits (most significant first) → the 16 lower-case digits the protocol carries. */
export function ieeeForRadio(ieee: string): string {
  const digits = ieee.replace(/[:\-\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{16}$/.test(digits)) throw new Error(`"${ieee}" is not an IEEE address (16 hex digits, most significant first)`);
  return digits;
}
