// Writes the virtual bench's OTA upgrade files (firmware-images/ota/*.zigbee), the same bytes on every
// run: `node --import tsx firmware-images/ota/build.ts`, then paste the sha256 it prints into virtual.yaml.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILT_IN_MANIFEST } from '../manifest.ts';
import { VIRTUAL_OTA_IMAGES, buildVirtualOtaImage } from '../ota.ts';

for (const def of VIRTUAL_OTA_IMAGES) {
  const bytes = buildVirtualOtaImage(def);
  writeFileSync(path.join(path.dirname(BUILT_IN_MANIFEST), def.file), bytes);
  console.log(`${def.file}  ${bytes.length} bytes  sha256 ${createHash('sha256').update(bytes).digest('hex')}`);
}
