// The HAN as the rig learns it after the CH's power-on, never as a constant: a Beacon Request from
// the rig radio brings back the coordinator's beacon (MAC source 0x0000: PAN id, extended PAN id),
// the sniffer that heard it says the channel, and the CH's own frames (its CCS01 response) its
// IEEE address. The rig file may pin the PAN and channel; a HAN heard otherwise is a rig fault.
import { RigFault } from '../drivers/faults.ts';
import { hex16 } from '../protocol/bytes.ts';
import type { HeardFrame } from './capture.ts';

/** What the rig file pins of a bench's HAN (`han: { pan, channel }`). */
export interface HanPin {
  readonly pan?: number;
  readonly channel?: number;
}

export interface LearnedHan {
  pan: number;
  channel: number;
  /** The CH as the HAN's coordinator: short 0x0000; its IEEE when a frame of the CH on this PAN was heard. */
  coordinator: { short: number; ieee?: string };
  extendedPanId: string;
}

const COORDINATOR = '0x0000';

/** A ZigBee coordinator's beacon: MAC source 0x0000, the PAN coordinator bit, a ZigBee payload. */
export function isCoordinatorBeacon(h: HeardFrame): boolean {
  const m = h.decoded.mac;
  return m.type === 'beacon' && m.src === COORDINATOR && m.beacon?.panCoordinator === true && typeof m.beacon.extendedPanId === 'string';
}

/**
 * The bench's HAN among the coordinators' beacons heard: the one whose extended PAN id is the CH's
 * IEEE address, else the one on the PAN the CH was heard on, else the pinned PAN, else the only one.
 * Checked against the pin: a HAN heard on another PAN or channel is a rig fault (`han-mismatch`).
 */
export function hanFromBeacons(
  beacons: readonly { heard: HeardFrame; channel: number }[],
  ch: { ieee: string; heardOnPan?: number },
  pin: HanPin | undefined,
  where: string,
): LearnedHan {
  const panOf = (b: { heard: HeardFrame }) => Number(b.heard.decoded.mac.srcPan);
  const epidOf = (b: { heard: HeardFrame }) => b.heard.decoded.mac.beacon!.extendedPanId as string;
  const coordinators = beacons.filter((b) => isCoordinatorBeacon(b.heard));
  const chosen =
    coordinators.find((b) => epidOf(b) === ch.ieee) ??
    coordinators.find((b) => panOf(b) === ch.heardOnPan) ??
    coordinators.find((b) => panOf(b) === pin?.pan) ??
    (new Set(coordinators.map(panOf)).size === 1 ? coordinators[0] : undefined);
  if (!chosen) {
    const heard = [...new Set(coordinators.map((b) => hex16(panOf(b))))];
    throw new RigFault(
      'han-unknown',
      where,
      heard.length
        ? `the rig cannot tell the CH's HAN among the coordinators that answered its beacon request (PANs ${heard.join(', ')})`
        : "no coordinator answered the rig radio's beacon request: the rig does not know the HAN (PAN id, channel)",
      heard.length
        ? "pin the bench's HAN in the rig file: han: { pan, channel }"
        : "check the CH is powered and the rig radio and the sniffer are on the HAN's channel",
    );
  }
  const learned: LearnedHan = {
    pan: panOf(chosen),
    channel: chosen.channel,
    coordinator: { short: 0x0000, ...(ch.heardOnPan === panOf(chosen) && { ieee: ch.ieee }) },
    extendedPanId: epidOf(chosen),
  };
  const wrong = [
    pin?.pan !== undefined && pin.pan !== learned.pan && `PAN ${hex16(pin.pan)} is pinned but the CH's beacon says ${hex16(learned.pan)}`,
    pin?.channel !== undefined &&
      pin.channel !== learned.channel &&
      `channel ${pin.channel} is pinned but the CH's beacon was heard on channel ${learned.channel}`,
  ].filter((w): w is string => typeof w === 'string');
  if (wrong.length) {
    throw new RigFault(
      'han-mismatch',
      where,
      `the HAN heard is not the one the rig file pins: ${wrong.join('; ')}`,
      "correct han: { pan, channel } of the bench in the rig file, or check that the CH on air is the bench's (another CH nearby?)",
    );
  }
  return learned;
}
