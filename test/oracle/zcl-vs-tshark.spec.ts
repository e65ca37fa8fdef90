// Every command in the ZCL / Smart Energy tables: encode → decode gives the same fields, and
// tshark, reading our pcapng, names the same cluster, frame type, direction and command.
import { test, expect } from '@playwright/test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame } from '../../protocol/encoder.ts';
import { openPcapngFile } from '../../io/capture-files.ts';
import { decodeZcl, encodeZcl, getCluster, sampleFields, tableCommands, type TableCommand } from '../../protocol/zcl/index.ts';
import { tsharkFieldNames, tsharkFields } from '../support/tshark.ts';

const PROFILE_SMART_ENERGY = 0x0109;
const h16 = (n: number) => '0x' + n.toString(16).padStart(4, '0');

function zclFor(c: TableCommand, i: number): Uint8Array {
  return encodeZcl(c.cluster, {
    type: c.type,
    cmd: c.command.id,
    dir: c.dir,
    seq: i & 0xff,
    fields: sampleFields(c.cluster, c.command, i),
  });
}

test('every table command round-trips through encode and decode', () => {
  const commands = tableCommands();
  expect(commands.length).toBeGreaterThan(100);
  commands.forEach((c, i) => {
    const fields = sampleFields(c.cluster, c.command, i);
    const bytes = encodeZcl(c.cluster, { type: c.type, cmd: c.command.id, dir: c.dir, seq: i & 0xff, fields });
    const d = decodeZcl(bytes, c.cluster);
    const where = `${h16(c.cluster)} ${c.type} ${c.dir} ${c.command.name}`;
    assert.equal(d.error, undefined, `${where}: ${d.error?.message}`);
    assert.equal(d.cmd, c.command.id, where);
    assert.equal(d.name, c.command.name, where);
    // Decoding adds derived names (e.g. controlFlags); every encoded field comes back as it went in.
    for (const [k, v] of Object.entries(fields)) assert.deepEqual(d.fields?.[k], v, `${where}: field ${k}`);
    assert.deepEqual(
      encodeZcl(c.cluster, { type: c.type, cmd: c.command.id, dir: c.dir, seq: i & 0xff, fields: d.fields }),
      bytes,
      `${where}: re-encoding`,
    );
  });
});

test('tshark names the cluster and command of every encoded Smart Energy frame as we do', async () => {
  const commands = tableCommands();
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-zcl-'));
  const file = join(dir, 'zcl.pcapng');
  const writer = openPcapngFile(file);
  const iface = writer.addInterface({ name: 'zcl-table' });
  commands.forEach((c, i) => {
    const frame = encodeFrame({
      mac: { type: 'data', seq: i & 0xff, dstPan: '0x1a62', srcPan: '0x1a62', dst: '0x0000', src: '0x1234' },
      nwk: { type: 'data', dst: '0x0000', src: '0x1234', seq: i & 0xff },
      aps: { type: 'data', dstEp: 1, srcEp: 1, cluster: c.cluster, profile: PROFILE_SMART_ENERGY, counter: i & 0xff },
      payload: zclFor(c, i),
    });
    writer.writePacket({ interfaceId: iface, timestampUs: 1_700_000_000_000_000n + BigInt(i), frame, fcsIncluded: true });
  });
  await writer.close();

  const idFields = [
    'zbee_zcl.cmd.id',
    'zbee_zcl.cs.cmd.id',
    ...tsharkFieldNames().filter((f) => /^zbee_zcl_[a-z_]+\.[a-z_]+\.cmd[._]srv_(rx|tx)\.id$/.test(f)),
  ];
  const rows = tsharkFields(
    file,
    ['zbee_aps.cluster', 'zbee_zcl.type', 'zbee_zcl.dir', '_ws.col.Info', ...idFields],
    ['-o', 'gui.column.format:"Info","%i"'],
  );
  expect(rows.length).toBe(commands.length);
  const problems: string[] = [];
  commands.forEach((c, i) => {
    const row = rows[i];
    const id = idFields.map((f) => row[f]?.[0]).find((v) => v !== undefined);
    const info = (row['_ws.col.Info'] ?? []).join(',');
    const name = c.command.wireshark ?? c.command.name;
    const where = `${h16(c.cluster)} ${getCluster(c.cluster)?.name} ${c.type} ${c.dir} ${c.command.name}`;
    if (row['zbee_aps.cluster']?.[0] !== h16(c.cluster)) problems.push(`${where}: tshark cluster ${row['zbee_aps.cluster']}`);
    if (Number(row['zbee_zcl.type']?.[0]) !== (c.type === 'global' ? 0 : 1))
      problems.push(`${where}: tshark frame type ${row['zbee_zcl.type']}`);
    if (Number(row['zbee_zcl.dir']?.[0]) !== (c.dir === 'client-to-server' ? 0 : 1))
      problems.push(`${where}: tshark direction ${row['zbee_zcl.dir']}`);
    if (id === undefined || Number(id) !== c.command.id) problems.push(`${where}: tshark command id ${id}`);
    if (!info.toLowerCase().includes(name.toLowerCase())) problems.push(`${where}: tshark says "${info}"`);
  });
  expect(problems, problems.join('\n')).toEqual([]);
});
