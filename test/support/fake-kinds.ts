// A relay vendor and a sniffer kind the project does not have, added the way a lab would add its
// own: a driver, a virtual twin, and a row in each registry — nothing else in the checkout knows
// them. Imported through GBCS_RIG_REGISTER (rigs/register.ts), so a whole `gbcs-rig run` and each
// of its workers see them. The sniffer is byte-framed, not line-based, to prove the frame-source
// seam (drivers/sniffer/frame-feed.ts) and the drain barrier take binary frames.
import type { IPublishPacket, MqttClient } from 'mqtt';
import { z } from 'zod';
import { RigFault } from '../../drivers/faults.ts';
import { MqttRelay, resolveStationClient, type RelayCommand } from '../../drivers/power/mqtt.ts';
import { registerRelayVendor } from '../../drivers/power/registry.ts';
import type { PowerSwitchOptions } from '../../drivers/power/types.ts';
import { relayVendor } from '../../drivers/power/vendor.ts';
import { openSerialLink, silentLog, type SerialLink } from '../../drivers/serial.ts';
import { FrameFeed } from '../../drivers/sniffer/frame-feed.ts';
import { registerSnifferKind } from '../../drivers/sniffer/registry.ts';
import { snifferKind, type PartOpening, type SniffedFrame, type Sniffer, type SnifferTimeAnchor } from '../../drivers/sniffer/sniffer.ts';
import { registerRelayTwin } from '../../sim/power-registry.ts';
import type { AirReception, DeviceLine } from '../../sim/serial-devices.ts';
import { registerSnifferTwin } from '../../sim/sniffer-registry.ts';
import { VirtualMqttRelay, type PowerListener, type VirtualRelayOptions } from '../../sim/tasmota-device.ts';

export const FAKE_RELAY_VENDOR = 'fake-outlets';
export const FAKE_SNIFFER_KIND = 'fake-binary';

// ——— The relay: `fake/<strip>/<outlet>/set` on|off in, `fake/<strip>/<outlet>` on|off out, `fake/<strip>/alive` yes|no. ———

class FakeOutlet extends MqttRelay {
  readonly where: string;
  protected readonly unconfirmedFix = 'Check the fake power strip is running.';

  static async attach(station: MqttClient, options: PowerSwitchOptions & { strip: string; outlet: number }): Promise<FakeOutlet> {
    const { client, owned } = await resolveStationClient(station);
    const relay = new FakeOutlet(client, owned, options);
    await relay.start();
    return relay;
  }

  private constructor(
    client: MqttClient,
    owned: boolean,
    private readonly options: PowerSwitchOptions & { strip: string; outlet: number },
  ) {
    super(client, owned, options);
    this.where = `${FAKE_RELAY_VENDOR} ${options.strip} outlet ${options.outlet}`;
  }

  private get base(): string {
    return `fake/${this.options.strip}`;
  }

  protected topics(): readonly string[] {
    return [`${this.base}/${this.options.outlet}`, `${this.base}/alive`];
  }

  protected command(on: boolean | undefined): RelayCommand {
    return { topic: `${this.base}/${this.options.outlet}/set`, payload: on === undefined ? '?' : on ? 'on' : 'off' };
  }

  protected onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const text = payload.toString('utf8');
    if (topic === `${this.base}/alive`) return this.reportAvailability(text === 'yes');
    if (text === 'on' || text === 'off') this.reportState(text === 'on', topic, packet);
  }
}

class VirtualFakeStrip extends VirtualMqttRelay {
  private readonly outlets = new Map<number, boolean>();

  static async start(options: VirtualRelayOptions & { strip: string }): Promise<VirtualFakeStrip> {
    const strip = new VirtualFakeStrip(options, options.strip);
    const alive = `fake/${options.strip}/alive`;
    await strip.connect(options.url, `fake-strip-${options.strip}`, { topic: alive, payload: 'no' }, `fake/${options.strip}/+/set`);
    await strip.client.publishAsync(alive, 'yes', { qos: 1, retain: true });
    return strip;
  }

  private constructor(
    options: VirtualRelayOptions,
    private readonly strip: string,
  ) {
    super(options);
  }

  protected onCommand(topic: string, payload: string): void {
    const outlet = Number(topic.split('/')[2]);
    const was = this.outlets.get(outlet) ?? false;
    const now = payload === '?' ? was : payload === 'on';
    this.outlets.set(outlet, now);
    if (now !== was) this.onPower(outlet, now);
    this.report([[`fake/${this.strip}/${outlet}`, now !== this.reportsWrongState ? 'on' : 'off']]);
  }

  pressButton(outlet: number): void {
    this.onCommand(`fake/${this.strip}/${outlet}/set`, this.outlets.get(outlet) ? 'off' : 'on');
  }
}

// ——— The sniffer: host → device `5a 01 <channel>` (receive on a channel); device → host one binary frame per PSDU:
// a5 <length> <PSDU> <rssi, signed> <lqi> <8-byte µs, big-endian>. ———

const SYNC = 0xa5;
const TRAILER = 10;

class FakeBinarySniffer implements Sniffer {
  readonly where: string;
  #channel: number | undefined;
  #fault: RigFault | undefined;
  #buffer = Buffer.alloc(0);
  #received = 0;
  #frames = 0;
  readonly #feed: FrameFeed;

  static async open(location: Parameters<typeof openSerialLink>[0], how: PartOpening): Promise<FakeBinarySniffer> {
    return new FakeBinarySniffer(await openSerialLink(location, { role: 'sniffer', where: how.where, binding: how.binding }), how);
  }

  private constructor(
    private readonly link: SerialLink,
    how: PartOpening,
  ) {
    this.where = how.where;
    // Frames are cut out of each chunk as it arrives: only a trailing partial frame is ever left unparsed.
    this.#feed = new FrameFeed({
      where: this.where,
      log: silentLog,
      now: how.now,
      position: () => ({ received: this.#received, caughtUp: true }),
    });
    link.port.on('data', (chunk: Buffer) => this.#onData(chunk));
    link.onLost((lost) => {
      this.#fault = new RigFault('sniffer-stopped', this.where, `stopped: ${lost.message}`, 'Re-plug the fake sniffer.', { cause: lost });
      this.#feed.end(this.#fault);
    });
  }

  get location(): string {
    return this.link.path;
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get fault(): RigFault | undefined {
    return this.#fault;
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#feed.anchor;
  }

  async start(channel: number): Promise<void> {
    this.#channel = channel;
    await this.link.write(Uint8Array.of(0x5a, 0x01, channel));
  }

  startProbe(): void {
    // A fake on the virtual bench only, whose faults are injected below the wire.
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    return this.#feed.onFrame(listener);
  }

  frames(): AsyncIterableIterator<SniffedFrame> {
    return this.#feed.frames();
  }

  toBenchTime(snifferUs: bigint): number {
    return this.#feed.toBenchTime(snifferUs);
  }

  drain(options?: { receivedBytes?: number }): Promise<void> {
    return this.#feed.drain(options);
  }

  async close(): Promise<void> {
    await this.link.close();
    this.#feed.end(this.#fault);
  }

  #onData(chunk: Buffer): void {
    this.#received += chunk.length;
    let buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      // Bytes before a sync byte are noise.
      const sync = buffer.indexOf(SYNC);
      buffer = sync < 0 ? Buffer.alloc(0) : buffer.subarray(sync);
      if (buffer.length < 2 || buffer.length < 2 + buffer[1] + TRAILER) break;
      const length = buffer[1];
      const psdu = new Uint8Array(buffer.subarray(2, 2 + length));
      const trailer = buffer.subarray(2 + length, 2 + length + TRAILER);
      buffer = buffer.subarray(2 + length + TRAILER);
      const snifferUs = trailer.readBigUInt64BE(2);
      this.#feed.publish({
        frame: psdu,
        rssi: trailer.readInt8(0),
        lqi: trailer[1],
        channel: this.#channel ?? 0,
        snifferUs,
        line: ++this.#frames,
      });
    }
    this.#buffer = buffer;
    this.#feed.settleDrains();
  }
}

class VirtualFakeBinarySniffer {
  #channel: number | undefined;
  #silent = false;

  constructor(private readonly line: DeviceLine) {
    line.onReceive((bytes) => {
      if (bytes[0] === 0x5a && bytes[1] === 0x01) this.#channel = bytes[2];
    });
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get bytesWritten(): number {
    return this.line.bytesWritten;
  }

  deliver(frame: Uint8Array, reception: AirReception): boolean {
    if (this.#silent || reception.channel !== this.#channel) return false;
    const trailer = Buffer.alloc(TRAILER);
    trailer.writeInt8(reception.rssi, 0);
    trailer[1] = reception.lqi;
    trailer.writeBigUInt64BE(reception.atUs, 2);
    this.line.write(Buffer.concat([Buffer.of(SYNC, frame.length), frame, trailer]));
    return true;
  }

  garble(): void {
    this.#silent = true;
  }

  async stop(mode: 'unplug' | 'silent' = 'unplug'): Promise<void> {
    this.#silent = true;
    if (mode === 'unplug') await this.line.unplug();
  }
}

// ——— The rows. ———

registerRelayVendor(
  relayVendor({
    vendor: FAKE_RELAY_VENDOR,
    title: 'Fake power strip',
    fields: { strip: z.string().regex(/^[a-z0-9-]+$/), outlet: z.int().min(1).max(8) },
    deviceField: 'strip',
    contact: (r) => ({ device: r.strip, channel: r.outlet }),
    attach: (r, on) =>
      FakeOutlet.attach(on.station, { strip: r.strip, outlet: r.outlet, confirmWithinMs: on.confirmWithinMs, now: on.now }),
    virtualTwin: 'fake-strip',
  }),
);

registerRelayTwin({
  twin: 'fake-strip',
  start: (o: { url: string; device: string; onPower: PowerListener }) =>
    VirtualFakeStrip.start({ url: o.url, strip: o.device, onPower: o.onPower }),
});

registerSnifferKind(
  snifferKind({
    kind: FAKE_SNIFFER_KIND,
    title: 'a fake byte-framed sniffer',
    fields: {},
    open: (location, _sniffer, how) => FakeBinarySniffer.open(location, how),
    virtualTwin: 'fake-binary',
  }),
);

registerSnifferTwin({ twin: 'fake-binary', boot: (line) => new VirtualFakeBinarySniffer(line) });
