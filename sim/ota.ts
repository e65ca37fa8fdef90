// Over-the-air upgrades on the virtual HAN (RCN-4), with the ZCL OTA Upgrade cluster: the CH as the
// server that holds the image the DCC sent it for a device, the IHD or PPMID as the client that fetches
// it block by block, verifies it, and applies it at the upgrade time the server gives.
import { hex, hexN } from '../protocol/bytes.ts';
import { parseOtaImage, verifyOtaIntegrityCode, type OtaHeader } from '../protocol/ota-image.ts';
import {
  BASIC,
  BASIC_ATTRIBUTE,
  OTA_IMAGE_UPGRADE_STATUS,
  OTA_UPGRADE,
  OTA_UPGRADE_ATTRIBUTE,
  attributeTypeId,
  globalFieldsOf,
  payloadOf,
  zclStatusCode,
  type ZclFrameSpec,
} from '../protocol/zcl/index.ts';
import type { CancelEvent, DiscreteEventClock } from './clock.ts';
import { GLOBAL, ZCL, toZclUtc, type HanAddress, type HanMessage } from './han-frames.ts';

type ZclMessage = Extract<HanMessage, { kind: 'zcl' }>;

const STATUS = {
  success: ZCL.success,
  noImageAvailable: zclStatusCode('Ota No Image Available'),
  invalidImage: zclStatusCode('Ota Invalid Image'),
} as const;
/** Image Notify payload type 3: jitter, manufacturer code, image type and the new file version. */
const NOTIFY_WITH_VERSION = 3;
/** Image Notify's query jitter: 100 tells every addressed client to ask (ZCL OTA). */
const QUERY_JITTER_ALL = 100;
/** The block a client asks for: what fits one secured frame beside the Image Block Response fields. */
export const OTA_BLOCK_BYTES = 48;
/** A client's pause between receiving a block and asking for the next. */
const BLOCK_REQUEST_GAP_MS = 50;

/** What a device runs, as its OTA client reports it. */
export interface OtaIdentity {
  manufacturerCode: number;
  imageType: number;
  fileVersion: number;
}

/** The frames the OTA server or client sends: through its device's HAN stack, later or at once. */
export interface OtaLink {
  /** A unicast ZCL frame of the OTA Upgrade (or Basic) cluster to `dst`, sent `delayMs` from now unless the device loses power first. */
  send(dst: number, cluster: number, spec: ZclFrameSpec, delayMs: number, label: string): void;
  /** The device's next ZCL transaction sequence number, for a request or an unsolicited command. */
  nextSeq(): number;
  record(kind: OtaEventKind, detail: string): void;
}

export type OtaEventKind =
  | 'ota-image-notify'
  | 'ota-no-image'
  | 'ota-block-served'
  | 'ota-upgrade-end'
  | 'ota-download-started'
  | 'ota-download-complete'
  | 'ota-image-refused'
  | 'ota-upgrade-scheduled';

const facts = (h: OtaIdentity) => ({ manufacturerCode: h.manufacturerCode, imageType: h.imageType, fileVersion: h.fileVersion });
const identityText = (h: OtaIdentity) => `${hexN(h.manufacturerCode, 4)}/${hexN(h.imageType, 4)} v${hexN(h.fileVersion, 8)}`;

/** The CH's OTA Upgrade server: the images the DCC sent it, one per device, served to that device alone. */
export class OtaServer {
  readonly #images = new Map<string, { file: Uint8Array; header: OtaHeader }>();

  constructor(
    private readonly clock: DiscreteEventClock,
    private readonly link: OtaLink,
  ) {}

  /** The DCC's image for a device: held for it, and the device told with an Image Notify. Throws when the file is no OTA file. */
  offer(to: HanAddress, file: Uint8Array): OtaHeader {
    const { header } = parseOtaImage(file);
    this.#images.set(to.ieee, { file, header });
    this.link.record('ota-image-notify', `${to.ieee}: ${identityText(header)}, ${file.length} bytes`);
    this.link.send(
      to.short,
      OTA_UPGRADE.id,
      {
        name: 'Image Notify',
        dir: 'server-to-client',
        seq: this.link.nextSeq(),
        disableDefaultResponse: true,
        fields: { payloadType: NOTIFY_WITH_VERSION, queryJitter: QUERY_JITTER_ALL, ...facts(header) },
      },
      0,
      'Image Notify',
    );
    return header;
  }

  /** A client's OTA request; false when the frame is not one. */
  receive(m: ZclMessage): boolean {
    if (m.cluster !== OTA_UPGRADE.id || m.zcl.dir !== 'client-to-server') return false;
    const image = m.ieee === undefined ? undefined : this.#images.get(m.ieee);
    const answer = (name: string, fields: Record<string, unknown>, label = name) =>
      this.link.send(m.src, OTA_UPGRADE.id, { name, dir: 'server-to-client', seq: m.zcl.seq, fields }, 20, label);
    const query = payloadOf(m.zcl, OTA_UPGRADE, 'Query Next Image Request');
    if (query) {
      const offered = image && image.header.manufacturerCode === query.manufacturerCode && image.header.imageType === query.imageType;
      if (!offered || image.header.fileVersion === query.fileVersion) {
        this.link.record('ota-no-image', `${m.ieee}: asked for ${identityText(query)}`);
        answer('Query Next Image Response', { status: STATUS.noImageAvailable });
      } else answer('Query Next Image Response', { status: STATUS.success, ...facts(image.header), imageSize: image.file.length });
      return true;
    }
    const block = payloadOf(m.zcl, OTA_UPGRADE, 'Image Block Request');
    if (block) {
      if (!image || image.header.fileVersion !== block.fileVersion) {
        answer('Image Block Response', { status: STATUS.noImageAvailable }, 'Image Block Response (no image)');
        return true;
      }
      const data = image.file.subarray(block.fileOffset, block.fileOffset + Math.min(block.maximumDataSize, OTA_BLOCK_BYTES));
      this.link.record('ota-block-served', `${m.ieee}: offset ${block.fileOffset}, ${data.length} bytes`);
      answer('Image Block Response', {
        status: STATUS.success,
        ...facts(image.header),
        fileOffset: block.fileOffset,
        imageData: hex(data),
      });
      return true;
    }
    const end = payloadOf(m.zcl, OTA_UPGRADE, 'Upgrade End Request');
    if (end) {
      this.link.record('ota-upgrade-end', `${m.ieee}: status ${hexN(end.status, 2)} for ${identityText(end)}`);
      if (end.status !== STATUS.success) return true;
      // Upgrade now: the current time and the upgrade time the same instant.
      const now = toZclUtc(this.clock.now());
      answer('Upgrade End Response', { ...facts(end), currentTime: now, upgradeTime: now });
      return true;
    }
    return false;
  }
}

/** A Query Next Image Response's fields. */
type OfferedImage = { status: number; manufacturerCode?: number; imageType?: number; fileVersion?: number; imageSize?: number };

/** An image being fetched. */
interface Download {
  server: number;
  identity: OtaIdentity;
  file: Uint8Array;
  received: number;
}

/**
 * An IHD's or PPMID's OTA Upgrade client, and the attributes that show what it runs: asked by an Image Notify,
 * it queries, fetches every block, checks the file (header, integrity code, that it is its own) and asks to end;
 * at the upgrade time it hands the new version to `apply` (the device reboots onto it).
 */
export class OtaClient {
  #running: OtaIdentity;
  #status: number = OTA_IMAGE_UPGRADE_STATUS.normal;
  #download: Download | undefined;
  readonly #timers = new Set<CancelEvent>();

  constructor(
    private readonly clock: DiscreteEventClock,
    private readonly link: OtaLink,
    running: OtaIdentity,
    /** The device's name and model, for Basic's Software Build Id. */
    private readonly model: string,
    private readonly apply: (version: number) => void,
  ) {
    this.#running = { ...running };
  }

  get running(): OtaIdentity {
    return { ...this.#running };
  }

  /** Power lost (or the device rebooted): a download in progress is lost with it. */
  stop(): void {
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    this.#download = undefined;
    this.#status = OTA_IMAGE_UPGRADE_STATUS.normal;
  }

  /** An OTA frame from the server, or a Read Attributes of its OTA client or Basic attributes; false when the frame is neither. */
  receive(m: ZclMessage): boolean {
    if (m.cluster === BASIC.id && m.zcl.dir === 'client-to-server') return this.#answerRead(m, 'server-to-client');
    if (m.cluster !== OTA_UPGRADE.id) return false;
    // The OTA client's attributes are client-side: read with the server-to-client direction, answered client-to-server.
    if (m.zcl.dir === 'server-to-client' && globalFieldsOf(m.zcl, 'Read Attributes')) return this.#answerRead(m, 'client-to-server');
    if (m.zcl.dir !== 'server-to-client') return false;
    const notify = payloadOf(m.zcl, OTA_UPGRADE, 'Image Notify');
    if (notify) {
      if (!this.#download) this.#ask(m.src, 'Query Next Image Request', { fieldControl: 0, ...facts(this.#running) });
      return true;
    }
    // Its image fields are present only on success, which the table's typing cannot say.
    const next = payloadOf(m.zcl, OTA_UPGRADE, 'Query Next Image Response') as OfferedImage | undefined;
    if (next) {
      if (next.status !== STATUS.success || !this.#mine(next)) return true;
      const identity = { manufacturerCode: next.manufacturerCode!, imageType: next.imageType!, fileVersion: next.fileVersion! };
      this.#download = { server: m.src, identity, file: new Uint8Array(next.imageSize!), received: 0 };
      this.#status = OTA_IMAGE_UPGRADE_STATUS.downloadInProgress;
      this.link.record('ota-download-started', `${identityText(identity)}, ${next.imageSize} bytes`);
      this.#requestBlock();
      return true;
    }
    const block = payloadOf(m.zcl, OTA_UPGRADE, 'Image Block Response');
    if (block) {
      const d = this.#download;
      if (!d || block.status !== STATUS.success || block.fileOffset !== d.received) return true;
      const data = Buffer.from(String(block.imageData), 'hex');
      d.file.set(data.subarray(0, d.file.length - d.received), d.received);
      d.received += data.length;
      if (d.received < d.file.length) this.#later(BLOCK_REQUEST_GAP_MS, () => this.#requestBlock(), 'Image Block Request');
      else this.#downloaded(d);
      return true;
    }
    const end = payloadOf(m.zcl, OTA_UPGRADE, 'Upgrade End Response');
    if (end) {
      const d = this.#download;
      if (!d || end.fileVersion !== d.identity.fileVersion) return true;
      const delayMs = Math.max(0, (end.upgradeTime - end.currentTime) * 1000);
      this.#status = OTA_IMAGE_UPGRADE_STATUS.countDown;
      this.link.record('ota-upgrade-scheduled', `v${hexN(d.identity.fileVersion, 8)} in ${delayMs / 1000} s`);
      this.#later(delayMs, () => this.#applyNow(d), 'applies the upgrade');
      return true;
    }
    return false;
  }

  #mine(h: { manufacturerCode?: number; imageType?: number }): boolean {
    return h.manufacturerCode === this.#running.manufacturerCode && h.imageType === this.#running.imageType;
  }

  #requestBlock(): void {
    const d = this.#download;
    if (!d) return;
    this.#ask(d.server, 'Image Block Request', {
      fieldControl: 0,
      ...facts(d.identity),
      fileOffset: d.received,
      maximumDataSize: OTA_BLOCK_BYTES,
    });
  }

  /** The whole file: checked as a device's bootloader would, then the end of the download reported. */
  #downloaded(d: Download): void {
    let status = STATUS.success;
    try {
      const parsed = parseOtaImage(d.file);
      verifyOtaIntegrityCode(d.file, parsed);
      if (!this.#mine(parsed.header) || parsed.header.fileVersion !== d.identity.fileVersion) throw new Error('not the image offered');
      this.#status = OTA_IMAGE_UPGRADE_STATUS.downloadComplete;
      this.link.record('ota-download-complete', identityText(d.identity));
    } catch (e) {
      status = STATUS.invalidImage;
      this.#status = OTA_IMAGE_UPGRADE_STATUS.normal;
      this.link.record('ota-image-refused', (e as Error).message);
    }
    this.#ask(d.server, 'Upgrade End Request', { status, ...facts(d.identity) });
    if (status !== STATUS.success) this.#download = undefined;
  }

  #applyNow(d: Download): void {
    this.stop();
    this.#running = { ...d.identity };
    this.apply(d.identity.fileVersion);
  }

  #ask(dst: number, name: string, fields: Record<string, unknown>): void {
    this.link.send(dst, OTA_UPGRADE.id, { name, dir: 'client-to-server', seq: this.link.nextSeq(), fields }, 0, name);
  }

  #later(ms: number, run: () => void, label: string): void {
    const cancel = this.clock.after(
      ms,
      () => {
        this.#timers.delete(cancel);
        run();
      },
      label,
    );
    this.#timers.add(cancel);
  }

  /** Basic's Software Build Id and the OTA client's attributes, as a Read Attributes Response. */
  #answerRead(m: ZclMessage, dir: 'client-to-server' | 'server-to-client'): boolean {
    const ids = globalFieldsOf(m.zcl, 'Read Attributes')?.attributes ?? [];
    const values = this.#attributes(m.cluster);
    const records = ids.map((id) =>
      values.has(id)
        ? { attributeId: id, status: ZCL.success, dataType: attributeTypeId(m.cluster, id), value: values.get(id) }
        : { attributeId: id, status: ZCL.unsupportedAttribute },
    );
    this.link.send(
      m.src,
      m.cluster,
      { type: 'global', cmd: GLOBAL.readAttributesResponse, dir, seq: m.zcl.seq, fields: { records } },
      20,
      'Read Attributes Response',
    );
    return true;
  }

  #attributes(cluster: number): Map<number, unknown> {
    const r = this.#running;
    if (cluster === BASIC.id)
      return new Map([[BASIC_ATTRIBUTE.softwareBuildId, `${this.model} ${r.fileVersion >>> 24}.${(r.fileVersion >>> 16) & 0xff}`]]);
    return new Map<number, unknown>([
      [OTA_UPGRADE_ATTRIBUTE.currentFileVersion, r.fileVersion],
      [OTA_UPGRADE_ATTRIBUTE.imageUpgradeStatus, this.#status],
      [OTA_UPGRADE_ATTRIBUTE.manufacturerId, r.manufacturerCode],
      [OTA_UPGRADE_ATTRIBUTE.imageTypeId, r.imageType],
    ]);
  }
}
