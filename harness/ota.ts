// Sending a device a firmware image over the air (RCN-4), the way the bench allows: on the virtual bench
// the simulated DCC sends it to the CH, which serves it over the HAN; on hardware the operator has the
// lab's DCC test access (or the device vendor's tool) send it. Which way, and what was sent, goes into the evidence.
import { spawn } from 'node:child_process';
import { RigFault } from '../drivers/faults.ts';
import { OperatorPrompt } from '../drivers/observe/operator-prompt.ts';
import {
  OtaImageError,
  describeOtaImage,
  loadOtaImage,
  otaImagesFor,
  type OtaDeviceIdentity,
  type VerifiedOtaImage,
} from '../firmware-images/ota.ts';
import { FirmwareImageError } from '../firmware-images/manifest.ts';
import { hexN } from '../protocol/bytes.ts';
import type { LoadedRig, RigBench, RigDevice } from '../rigs/load.ts';
import type { VirtualBench } from '../sim/bench.ts';
import type { EvidenceLog } from './evidence.ts';

export type { OtaDeviceIdentity, VerifiedOtaImage };

/** What a firmware claims when it has a ZigBee OTA Upgrade client: RCN-4 applies to it. */
export const OTA_CLAIM = 'zigbee-ota-upgrade';

/**
 * The image to offer a device: the newest in the rig's firmware manifests for its role, manufacturer code and image
 * type, newer than what it runs, verified (sha256, OTA header, its device). None, or a bad one, is the rig's fault.
 */
export async function otaImageFor(rig: LoadedRig, device: RigDevice, runs: OtaDeviceIdentity): Promise<VerifiedOtaImage> {
  const [image] = otaImagesFor(rig.firmware, device.role, runs);
  if (!image)
    throw new RigFault(
      'rig-misconfigured',
      `${device.role} ${device.id}`,
      `no firmware manifest has an OTA image for a ${device.role} with manufacturer code ${hexN(runs.manufacturerCode, 4)} and image type ` +
        `${hexN(runs.imageType, 4)} newer than ${runs.fileVersion === undefined ? 'what it runs' : hexN(runs.fileVersion, 8)}`,
      'add the device’s next OTA image (a ZigBee OTA upgrade file, with ota: { manufacturerCode, imageType, fileVersion }) to a manifest the rig file names',
    );
  try {
    return await loadOtaImage(image, runs);
  } catch (e) {
    if (!(e instanceof OtaImageError || e instanceof FirmwareImageError)) throw e;
    throw new RigFault(
      'rig-misconfigured',
      `OTA image ${image.id}`,
      e.message,
      e instanceof OtaImageError ? e.fix : 'restore the image its manifest pins',
      {
        cause: e,
      },
    );
  }
}

export interface OtaDelivery {
  readonly how: string;
  /** Has the image sent towards the device; the transfer itself is watched on air. */
  deliver(device: RigDevice, image: VerifiedOtaImage, evidence: EvidenceLog): Promise<void>;
}

/** The delivery a bench has: the simulated DCC on a virtual bench, else the rig file's lab hook, else the operator. */
export function otaDeliveryFor(spec: RigBench, virtual: VirtualBench | undefined, operatorAnswerMs: number): OtaDelivery {
  if (virtual) return new SimulatedDcc(virtual);
  return spec.otaTrigger ? new LabHookDelivery(spec.otaTrigger.command, spec.otaTrigger.url) : new OperatorDelivery(operatorAnswerMs);
}

/** What is sent, as the evidence and a lab hook see it. */
const requestOf = (device: RigDevice, image: VerifiedOtaImage) => ({
  device: device.id,
  role: device.role,
  ieee: device.ieee,
  image: image.image.id,
  file: image.image.image.file,
  sha256: image.sha256,
  manufacturerCode: hexN(image.header.manufacturerCode, 4),
  imageType: hexN(image.header.imageType, 4),
  fileVersion: hexN(image.header.fileVersion, 8),
  size: image.bytes.length,
});

const recordDelivery = (evidence: EvidenceLog, device: RigDevice, image: VerifiedOtaImage, how: string) =>
  evidence.event('ota-delivery', { ...requestOf(device, image), how });

class SimulatedDcc implements OtaDelivery {
  readonly how = 'virtual bench: the simulated DCC sends the image to the CH, which serves it over the HAN (ZCL OTA Upgrade)';
  constructor(private readonly bench: VirtualBench) {}

  async deliver(device: RigDevice, image: VerifiedOtaImage, evidence: EvidenceLog): Promise<void> {
    recordDelivery(evidence, device, image, this.how);
    if (!this.bench.deliverFirmware(device.id, image.bytes))
      throw new RigFault(
        'precondition-unmet',
        `CH of bench ${this.bench.spec.id}`,
        'the simulated DCC found no powered CH to send the image to',
        'power the CH before the image is sent',
      );
  }
}

/** The lab sends the image (its DCC test access, or the device vendor's tool) when the operator is asked to. */
class OperatorDelivery implements OtaDelivery {
  readonly how = "operator: the lab's DCC test access (or the device vendor's tool) sends the image";
  constructor(private readonly answerMs: number) {}

  async deliver(device: RigDevice, image: VerifiedOtaImage, evidence: EvidenceLog): Promise<void> {
    recordDelivery(evidence, device, image, this.how);
    const answer = await OperatorPrompt.ask({
      device: `${device.role} "${device.id}" (${device.ieee})`,
      question: `Has the over-the-air upgrade to ${image.image.id} been sent to this ${device.role} through its CH?`,
      expected: 'yes',
      instructions: `Send ${describeOtaImage(image)} with the lab's DCC test access or the vendor's tool, then answer yes.`,
      timeoutMs: this.answerMs,
      evidence,
    });
    if (answer.answer !== 'yes')
      throw new RigFault(
        'precondition-unmet',
        `${device.role} ${device.id}`,
        `the operator did not send the OTA image ${image.image.id}`,
        "send the image with the lab's DCC test access, then run the case again",
      );
  }
}

/** The rig file's otaTrigger: a command run with the request as JSON in GBCS_RIG_OTA, or a URL POSTed the request. */
class LabHookDelivery implements OtaDelivery {
  readonly how: string;
  constructor(
    private readonly command?: readonly string[],
    private readonly url?: string,
  ) {
    this.how = command ? `lab hook: ${command.join(' ')}` : `lab hook: POST ${url}`;
  }

  async deliver(device: RigDevice, image: VerifiedOtaImage, evidence: EvidenceLog): Promise<void> {
    recordDelivery(evidence, device, image, this.how);
    const request = JSON.stringify(requestOf(device, image));
    const fault = (why: string) =>
      new RigFault('rig-misconfigured', this.how, `the OTA lab hook failed: ${why}`, 'check the lab hook and the DCC test access it calls');
    if (this.command) {
      const [cmd, ...args] = this.command;
      const code = await new Promise<number>((done) => {
        const child = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, GBCS_RIG_OTA: request } });
        child.on('error', () => done(-1));
        child.on('exit', (c) => done(c ?? -1));
      });
      if (code !== 0) throw fault(`exit code ${code}`);
      return;
    }
    const res = await fetch(this.url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request }).catch(
      (e: Error) => {
        throw fault(e.message);
      },
    );
    if (!res.ok) throw fault(`HTTP ${res.status}`);
  }
}
