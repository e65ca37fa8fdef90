// The real captures in ../shared/captures and their keys (from its README).
import { fileURLToPath } from 'node:url';

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));

export function capturePath(file: string): string {
  return `${SHARED}captures/${file}`;
}

export interface CaptureCase {
  file: string;
  networkKeys: string[];
  linkKeys: string[];
  /** The reader must refuse it (a link type that is not 802.15.4). */
  refused?: boolean;
}

const ZIGATOR_NWK = ['11111111111111111111111111111111', '22222222222222222222222222222222'];
const ZIGATOR_LINK = [
  '33333333333333333333333333333333',
  '44444444444444444444444444444444',
  '77777777777777777777777777777777',
  '88888888888888888888888888888888',
  '3C6047F3C55C8C8290A5839C213B6714',
  '865EB452951420552E9FDBB3F16642EA',
];
const zigator = (name: string, refused = false): CaptureCase => ({
  file: `zigator_${name}.pcap`,
  networkKeys: ZIGATOR_NWK,
  linkKeys: ZIGATOR_LINK,
  refused,
});

export const CAPTURES: CaptureCase[] = [
  { file: 'whsniff_zigbee.pcapng', networkKeys: ['01030507090B0D0F00020406080A0C0D'], linkKeys: ['5A6967426565416C6C69616E63653039'] },
  { file: 'killerbee_control4-sample.pcap', networkKeys: ['26546B723B396A727B5D5271517D392F'], linkKeys: [] },
  zigator('00-wrong-data-link-type', true),
  zigator('01-phy-testing'),
  zigator('02-mac-testing'),
  zigator('03-nwk-testing'),
  zigator('04-aps-testing'),
  zigator('05-zdp-testing'),
  zigator('06-zcl-testing'),
  zigator('07-sll-testing', true),
  zigator('08-thr-testing'),
  zigator('09-mle-testing'),
];
