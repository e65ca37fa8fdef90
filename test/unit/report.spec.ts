// The certification report built from a run folder alone: report.html (summary, timelines, devices,
// audit trail; self-contained), junit.xml, results.json rebuilt from evidence, and the signed
// manifest that `verify` checks byte for byte.
import { test, expect } from '@playwright/test';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseResult } from '../../harness/case.ts';
import { reportCommand } from '../../cli/report.ts';
import { verifyCommand } from '../../cli/verify.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { KeyTable } from '../../protocol/security.ts';
import { buildReport } from '../../reports/build.ts';
import { MANIFEST, SIGNATURE, SIGNING_KEY_ENV, runFiles, verifyRun, writeManifest } from '../../reports/integrity.ts';
import type { RunResults } from '../../reports/results.ts';
import { reportId } from '../../reports/statement.ts';
import { RigSecrets } from '../../rigs/load.ts';
import { TEST_INSTALL_CODE, runCampaign, scratchDir, type Campaign } from '../support/campaign.ts';

// One campaign per profile per worker: each test works on its own copy of the run folder.
const campaigns = new Map<string, Promise<Campaign>>();
function campaign(firmware = 'ch-conformant'): Promise<Campaign> {
  let c = campaigns.get(firmware);
  if (!c) campaigns.set(firmware, (c = runCampaign({ firmware, grep: 'CH-IPAN' })));
  return c;
}

async function runFolder(firmware?: string): Promise<string> {
  const c = await campaign(firmware);
  expect(c.exitCode, c.stderr).toBe(0);
  const copy = join(scratchDir('gbcs-rig-report-'), 'run');
  cpSync(c.dir, copy, { recursive: true });
  return copy;
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const results = (dir: string) => JSON.parse(read(dir, 'results.json')) as RunResults;
const NO_ENV = { env: {} };

/** Captures a command's output lines. */
function lines(): { out: (l: string) => void; text: () => string } {
  const all: string[] = [];
  return { out: (l) => all.push(l), text: () => all.join('\n') };
}

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** A small strict XML reader: balanced tags, quoted attributes, only the five entities and numeric references. */
function parseXml(xml: string): XmlElement {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const checkText = (t: string) => {
    if (/[<>]/.test(t)) throw new Error(`raw markup character in text: ${t.slice(0, 60)}`);
    const bad = t.match(/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/);
    if (bad) throw new Error(`unescaped & in: ${t.slice(0, 60)}`);
    return t
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  };
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  for (const m of body.matchAll(token)) {
    const [, close, name, attrText, selfClose, text, stray] = m;
    if (stray) throw new Error(`malformed tag at ${m.index}: ${body.slice(m.index!, m.index! + 60)}`);
    if (text !== undefined) {
      stack[stack.length - 1].text += checkText(text);
      continue;
    }
    if (close) {
      const top = stack.pop()!;
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) attrs[a[1]] = checkText(a[2]);
    const el: XmlElement = { name, attrs, children: [], text: '' };
    stack[stack.length - 1].children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (root.children.length !== 1) throw new Error(`${root.children.length} root elements`);
  return root.children[0];
}

test('report.html: a summary row per case with its verdict, a timeline per case, the devices, and nothing fetched', async () => {
  const dir = await runFolder();
  const built = await buildReport(dir);
  expect(built.resultsRebuilt).toBe(false);
  const html = read(dir, 'report.html');
  const run = results(dir);
  expect(run.cases.length).toBe(7);
  for (const c of run.cases) {
    expect(html, c.id).toContain(`<tr data-case="${c.id}" data-bench="${c.bench}" data-verdict="${c.verdict}">`);
    expect(html).toMatch(new RegExp(`<svg class="timeline" data-case="${c.id}"[^>]*>`));
    expect(html).toContain(`<section class="case" id="case-${c.id}--${c.bench}"`);
  }
  expect(html.match(/<svg class="timeline"/g)?.length).toBe(run.cases.length);
  expect(html).toMatch(/<span class="verdict v-not-applicable" data-verdict="NOT APPLICABLE">/);
  // Devices under test: role, id, IEEE, firmware, claims.
  expect(html).toMatch(
    /<table id="devices">.*<tr data-device="virtual-1\/ch"><td>CH<\/td><td>ch<\/td><td class="ieee">00:db:12:34:56:78:90:a2<\/td><td class="mono">ch-conformant<\/td><td>gbcs-rig virtual<\/td><td>Virtual CH \(conformant\)<\/td><td><span class="note">not recorded<\/span><\/td><td><span class="note">not recorded<\/span><\/td><td>1\.0\.0<\/td><td>GBCS 4\.1<\/td><td>virtual-1<\/td><\/tr>/s,
  );
  expect(html).toMatch(
    /<table id="device-images">.*<tr data-device="virtual-1\/ch"><td>CH ch<\/td><td class="hash" data-field="sha256">[0-9a-f]{64} <span class="outcome o-pass">verified<\/span><\/td><td>gbcs-10.5-interpan-60min<\/td><td class="case-ids"><span>CH-IPAN-001<\/span>, /s,
  );
  // A simulated bench says so at the top, and the report has its own id, scope, method, conclusions and sign-off.
  expect(html).toContain('<div id="virtual-banner" role="note">Results from a simulated bench (virtual-1) — not a device test</div>');
  expect(reportId(run.run)).toBe(`GBCS-RIG-${run.run.station.replace(/[^A-Za-z0-9]+/g, '-')}-${run.run.id}`);
  expect(html).toContain(`<dd data-field="report-id" class="mono">${reportId(run.run)}</dd>`);
  expect(run.run.rigSha256).toMatch(/^[0-9a-f]{64}$/);
  expect(html).toContain(`sha256 <span class="mono">${run.run.rigSha256}</span>`);
  for (const t of run.run.testPlan ?? [])
    expect(html).toContain(`<span class="mono">${t.suite}</span> sha256 <span class="mono">${t.sha256}</span>`);
  // The run was the inter-PAN suite's cases alone (--grep): the report says so, so it cannot pass for a whole campaign.
  expect(html).toContain(
    `<ul id="deviations"><li data-deviation="cases selected"><b>cases selected</b>: only the suites&#39; cases matching --grep ${run.run.grep} were run (7 cases); the others were not</li></ul>`,
  );
  expect(html).toMatch(
    /<tr data-device="virtual-1\/ch" data-conclusion="conforms">.*<td>6 PASS, 1 NOT APPLICABLE<\/td><td>Conforms to the requirements tested \(IPAN-1, IPAN-2, IPAN-3, IPAN-4, IPAN-5\); nothing is said of requirements not tested\.<\/td>/,
  );
  // Each case that sent the HHT's CCS01 says it rests on the modelled inter-PAN carrier; the one that sent none does not.
  const sectionOf = (id: string) =>
    html.slice(html.indexOf(`<section class="case" id="case-${id}--`), html.indexOf('</section>', html.indexOf(`id="case-${id}--`)));
  for (const id of ['CH-IPAN-001', 'CH-IPAN-002', 'CH-IPAN-003', 'CH-IPAN-004', 'CH-IPAN-005', 'CH-IPAN-006'])
    expect(sectionOf(id), id).toMatch(
      /<div class="rests-on">.*<li data-fact="ccs01-inter-pan-carrier">CCS01 over inter-PAN is carried as Tunneling Transfer Data/s,
    );
  expect(sectionOf('CH-IPAN-007')).not.toContain('rests-on');
  // The test equipment, as each case found it: the broker (no credentials), the relay, the sniffer, the radio with its firmware.
  const equipment = html.slice(
    html.indexOf('<section id="test-equipment">'),
    html.indexOf('</section>', html.indexOf('<section id="test-equipment">')),
  );
  expect(equipment).toMatch(
    /<tr data-equipment="virtual-1\/broker\/station"><td>virtual-1<\/td><td>broker<\/td><td>station<\/td><td class="mono">MQTT<\/td><td class="mono">embedded<\/td><td>—<\/td><td>7<\/td><\/tr>/,
  );
  expect(equipment).toMatch(
    /<tr data-equipment="virtual-1\/relay\/[^"]+"><td>virtual-1<\/td><td>relay<\/td><td>[^<]+<\/td><td class="mono">tasmota<\/td>/,
  );
  expect(equipment).toMatch(
    /<tr data-equipment="virtual-1\/sniffer\/[^"]+">.*<td class="mono">nrf802154<\/td>.*not reported \(its protocol has no way to ask\).*<td>7<\/td><\/tr>/,
  );
  expect(equipment).toMatch(
    /<tr data-equipment="virtual-1\/rig radio\/radio">.*<td class="mono">gbcs-rig-radio<\/td><td class="mono">\/dev\/gbcs-rig-virtual\/[^<]+ and 6 more<\/td><td>gbcs-rig-radio protocol 1, virtual<\/td><td>7<\/td><\/tr>/,
  );
  expect(html).toMatch(/<section id="sign-off">.*<tr data-role="Tested by">.*<tr data-role="Reviewed by">.*<tr data-role="Approved by">/s);
  // The cover: station, run id, version, and every lab setting in force with its source.
  expect(html).toContain(`<dd data-field="run-id" class="mono">${run.run.id}</dd>`);
  expect(html).toMatch(/<table id="lab-settings">.*interPanWindowMinutes.*60 min.*default/s);
  // A limit the lab left unset is said to be measured only, not printed as "null" or "none".
  expect(html).toMatch(
    /<tr data-setting="reconnectRecoveryMinutes"><td class="mono">reconnectRecoveryMinutes<\/td><td><span class="note">not set \(measure only\)<\/span><\/td>/,
  );
  // The measurements read as a person writes them: the uncertainty in the unit that suits it.
  expect(html).toMatch(/<td>±\d+(\.\d)? (µs|ms|s|min)<\/td>/);
  expect(html).not.toMatch(/±\d*\.\d{3,}|\de-\d/);
  // The audit trail of the CH: the rig's CCS01 and the frames to it on air, without payloads.
  const audit = html.slice(html.indexOf('<section id="audit">'));
  expect(audit).toContain('<section class="audit" data-device="virtual-1/ch">');
  expect(audit).toMatch(
    /<td>sent by the rig<\/td><td class="mono">rig radio \(HHT\)<\/td><td class="title">GBCS CCS01 Add Device to CHF Device Log over inter-PAN/,
  );
  expect(audit).toMatch(
    /<td>seen on air<\/td><td class="mono">00:db:12:34:56:78:90:f0<\/td><td class="title">GBCS CCS01 Add Device to CHF Device Log \(command\)/,
  );
  expect(audit).toMatch(/<td>short 0x0000<\/td>/);
  // No payloads: apart from the evidence, image, suite and rig file hashes and the commit, no long hex string (a Transfer Data payload, a key) anywhere.
  const withoutHashes = html
    .replace(/<td class="hash"[^>]*>[0-9a-f]{64}/g, '')
    .replace(/<span class="mono commit">\(commit [0-9a-f]{40}\)<\/span>/g, '')
    .replace(/sha256 <span class="mono">[0-9a-f]{64}<\/span>/g, '');
  expect(withoutHashes).not.toMatch(/[0-9a-fA-F]{32,}/);
  // Evidence listed with its hash, and still matching it.
  const firstEvidence = run.cases[0].evidence[0];
  expect(html).toContain(firstEvidence.sha256);
  expect(html).not.toContain('class="status-changed"');
  // Self-contained: no scripts, no stylesheets or images from anywhere, no network references at all.
  expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
  expect(html).not.toMatch(/https?:\/\//i);
  expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(\/\/|[a-z]+:)/i);
});

test('a failing profile: the FAIL is in the summary, its timeline marks the deciding moment, and junit.xml has a <failure>', async () => {
  const dir = await runFolder('ch-window-45min');
  await buildReport(dir);
  const html = read(dir, 'report.html');
  expect(html).toContain('<tr data-case="CH-IPAN-001" data-bench="virtual-1" data-verdict="FAIL">');
  const section = html.slice(html.indexOf('<section class="case" id="case-CH-IPAN-001--virtual-1"'));
  expect(section).toMatch(/<div class="failure"><b>The device broke IPAN-1\.<\/b>/);
  // The plan at the default settings: the 60-minute window and 5 minutes for the steps.
  expect(section).toMatch(/; planned 1:05:00\)<\/dd>/);
  expect(section).toMatch(/<g class="decision" data-verdict="FAIL">/);
  // The refusal decided it, not the probe's timing (which passed): the report says so, and sets no green "pass" beside the FAIL.
  expect(section).toContain(
    '<p class="decided-by">No measurement decided this FAIL: an observation did (see the reason above); the measurements below are for information.</p>',
  );
  expect(section).toMatch(/<text class="decision-label"[^>]*>FAIL: decided by an observation, not a measurement<\/text>/);
  const summaryRow = html.slice(
    html.indexOf('<tr data-case="CH-IPAN-001"'),
    html.indexOf('</tr>', html.indexOf('<tr data-case="CH-IPAN-001"')),
  );
  expect(summaryRow).toContain('decided by an observation, not a measurement (IPAN-1)');
  expect(summaryRow).not.toContain('o-pass');
  expect(section).toMatch(/<path class="power" data-device="ch"/);
  expect(section).toMatch(/<line class="frame" data-kind="ccs01"/);
  expect(section).toMatch(/<g class="step-marker" data-step="2">/);

  const suites = parseXml(read(dir, 'junit.xml'));
  expect(suites.name).toBe('testsuites');
  expect(suites.attrs.failures).toBe('1');
  expect(suites.children.map((s) => s.name)).toEqual(['testsuite']);
  const [bench] = suites.children;
  expect(bench.attrs.name).toBe('virtual-1');
  expect(bench.children.length).toBe(7);
  const failed = bench.children.find((t) => t.attrs.name.startsWith('CH-IPAN-001 '))!;
  expect(failed.attrs.classname).toBe('IPAN');
  expect(failed.attrs.name).toBe('CH-IPAN-001 inter-PAN joining is available until 60 minutes after power-on');
  const failure = failed.children.find((c) => c.name === 'failure')!;
  expect(failure.attrs.type).toBe('FAIL IPAN-1');
  expect(failure.text).toContain('failed requirement: IPAN-1');
  const skipped = bench.children.find((t) => t.attrs.name.startsWith('CH-IPAN-007 '))!;
  expect(skipped.children.map((c) => c.name)).toContain('skipped');
  // A window closed at 45 min leaves IPAN-2's premise (an open window at 59:00) unmet: INCONCLUSIVE, a junit <error>.
  const unmet = bench.children.find((t) => t.attrs.name.startsWith('CH-IPAN-002 '))!;
  expect(unmet.children.map((c) => c.name)).toContain('error');
  for (const t of bench.children.filter((c) => c !== failed && c !== skipped && c !== unmet))
    expect(t.children.map((c) => c.name)).toEqual(['properties']);
});

test('results.json rebuilt from the evidence alone has the same cases, totals and order as the reporter wrote', async () => {
  const dir = await runFolder('ch-window-45min');
  const original = results(dir);
  rmSync(join(dir, 'results.json'));
  const built = await buildReport(dir, { run: { station: 'copied station' } });
  expect(built.resultsRebuilt).toBe(true);
  const rebuilt = results(dir);
  expect(rebuilt.schema).toBe('gbcs-rig/results@1');
  expect(rebuilt.cases).toEqual(original.cases);
  expect(rebuilt.totals).toEqual(original.totals);
  expect(rebuilt.missing).toEqual([]);
  expect(rebuilt.run.station).toBe('copied station');
  expect(read(dir, 'report.html')).toContain('results.json was missing: rebuilt from evidence');

  // A case that crashed before its result.json: reported as ended without a verdict.
  rmSync(join(dir, 'results.json'));
  rmSync(join(dir, 'evidence', 'CH-IPAN-003--virtual-1', 'result.json'));
  await buildReport(dir);
  const crashed = results(dir);
  expect(crashed.cases.map((c) => c.id)).not.toContain('CH-IPAN-003');
  expect(crashed.missing).toEqual(['CH-IPAN-003 a power cycle opens a new inter-PAN window on bench virtual-1']);
  expect(read(dir, 'report.html')).toContain('data-missing="CH-IPAN-003 a power cycle opens a new inter-PAN window on bench virtual-1"');
  const junit = parseXml(read(dir, 'junit.xml'));
  expect(junit.children.map((s) => s.attrs.name)).toEqual(['virtual-1', 'ended without a verdict']);
});

test('text from the run folder is escaped in report.html and junit.xml', async () => {
  const dir = await runFolder();
  rmSync(join(dir, 'results.json'));
  const file = join(dir, 'evidence', 'CH-IPAN-002--virtual-1', 'result.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as CaseResult;
  c.title = `<script>alert("x")</script> & <img src=x onerror=alert(1)> ]]> \u0001`;
  c.reason = `"quoted" & 'apostrophe' </testcase>`;
  c.verdict = 'INCONCLUSIVE';
  c.fix = 'check the <relay>';
  writeFileSync(file, JSON.stringify(c));
  await buildReport(dir);
  const html = read(dir, 'report.html');
  expect(html).not.toContain('<script>');
  expect(html).not.toContain('<img');
  expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
  expect(html).toMatch(/<b>Fix at the bench:<\/b> <span class="fix">check the &lt;relay&gt;<\/span>/);
  const junit = parseXml(read(dir, 'junit.xml'));
  const t = junit.children[0].children.find((x) => x.attrs.name.startsWith('CH-IPAN-002 '))!;
  expect(t.attrs.name).toBe('CH-IPAN-002 <script>alert("x")</script> & <img src=x onerror=alert(1)> ]]> \ufffd');
  const error = t.children.find((x) => x.name === 'error')!;
  expect(error.attrs.type).toBe('INCONCLUSIVE');
  expect(error.attrs.message).toBe(`"quoted" & 'apostrophe' </testcase>`);
  expect(error.text).toContain('fix: check the <relay>');
});

test('verify: intact when fresh; names a changed byte of an evidence capture, a deleted file, an added file', async () => {
  const dir = await runFolder();
  await buildReport(dir);
  const manifest = await writeManifest(dir, NO_ENV);
  expect(manifest.keySource).toBe('ephemeral');
  expect(manifest.keyNote).toMatch(/ephemeral|discarded/);
  // Every file of the folder, the report formats included, and nothing else.
  expect(manifest.files.map((f) => f.path)).toEqual(runFiles(dir));
  for (const f of [
    'results.json',
    'report.html',
    'junit.xml',
    'evidence/CH-IPAN-001--virtual-1/han.pcapng',
    'evidence/CH-IPAN-001--virtual-1/events.jsonl',
  ]) {
    expect(manifest.files.map((m) => m.path)).toContain(f);
  }
  expect(manifest.files.map((m) => m.path)).not.toContain(MANIFEST);
  expect(await verifyRun(dir)).toMatchObject({ ok: true, problems: [] });
  const ok = lines();
  expect(await verifyCommand([dir], ok.out)).toBe(0);
  expect(ok.text()).toMatch(/intact/);

  // One byte of one capture.
  const capture = join(dir, 'evidence', 'CH-IPAN-002--virtual-1', 'han.pcapng');
  const bytes = readFileSync(capture);
  bytes[bytes.length - 20] ^= 0x01;
  writeFileSync(capture, bytes);
  expect((await verifyRun(dir)).problems).toEqual([{ file: 'evidence/CH-IPAN-002--virtual-1/han.pcapng', problem: 'changed' }]);

  rmSync(join(dir, 'evidence', 'CH-IPAN-005--virtual-1', 'events.jsonl'));
  writeFileSync(join(dir, 'evidence', 'note.txt'), 'added later');
  const r = await verifyRun(dir);
  expect(r.ok).toBe(false);
  expect(r.problems).toEqual(
    expect.arrayContaining([
      { file: 'evidence/CH-IPAN-002--virtual-1/han.pcapng', problem: 'changed' },
      { file: 'evidence/CH-IPAN-005--virtual-1/events.jsonl', problem: 'missing' },
      { file: 'evidence/note.txt', problem: 'unexpected' },
    ]),
  );
  expect(r.problems.length).toBe(3);
  const bad = lines();
  expect(await verifyCommand([dir], bad.out)).toBe(1);
  expect(bad.text()).toContain('changed: evidence/CH-IPAN-002--virtual-1/han.pcapng');
  expect(bad.text()).toContain('missing: evidence/CH-IPAN-005--virtual-1/events.jsonl');
  expect(bad.text()).toContain('unexpected: evidence/note.txt');
});

test('verify: a bad signature is detected — an edited manifest, a replaced signature, a key other than the trusted one', async () => {
  const dir = await runFolder();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const trusted = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const manifest = await writeManifest(dir, { env: { [SIGNING_KEY_ENV]: pem } });
  expect(manifest.keySource).toBe('env');
  expect(manifest.publicKey).toBe(trusted);
  expect((await verifyRun(dir, { trustedPublicKey: trusted })).ok).toBe(true);

  // Someone "fixes" a hash in the manifest to hide a change: the signature no longer holds.
  const text = read(dir, MANIFEST);
  const edited = text.replace(/"sha256": "([0-9a-f])/, (_m, c: string) => `"sha256": "${c === '0' ? '1' : '0'}`);
  writeFileSync(join(dir, MANIFEST), edited);
  expect((await verifyRun(dir)).problems).toContainEqual({ file: SIGNATURE, problem: 'bad signature' });
  writeFileSync(join(dir, MANIFEST), text);
  expect((await verifyRun(dir)).ok).toBe(true);

  // A signature of other bytes.
  const sig = read(dir, SIGNATURE);
  writeFileSync(join(dir, SIGNATURE), Buffer.from('x'.repeat(64)).toString('base64'));
  expect((await verifyRun(dir)).problems).toEqual([{ file: SIGNATURE, problem: 'bad signature' }]);
  writeFileSync(join(dir, SIGNATURE), sig);

  // Re-signed with another key (a key file this time): good by itself, bad against the lab's published key.
  const keyFile = join(dir, '..', 'other.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  expect((await writeManifest(dir, { file: keyFile, ...NO_ENV })).keySource).toBe('file');
  expect((await verifyRun(dir)).ok).toBe(true);
  expect((await verifyRun(dir, { trustedPublicKey: trusted })).problems).toEqual([{ file: SIGNATURE, problem: 'bad signature' }]);
  const publicKeyFile = join(dir, '..', 'trusted.pub.pem');
  writeFileSync(publicKeyFile, trusted);
  const out = lines();
  expect(await verifyCommand([dir, '--public-key', publicKeyFile], out.out)).toBe(1);
  expect(out.text()).toContain('bad signature: manifest.sig');

  // A missing signature is named as missing.
  rmSync(join(dir, SIGNATURE));
  expect((await verifyRun(dir)).problems).toEqual([{ file: SIGNATURE, problem: 'missing' }]);
});

test('gbcs-rig report rebuilds every format and signs; errors are one line; usage errors exit 2', async () => {
  const dir = await runFolder('ch-window-45min');
  rmSync(join(dir, 'results.json'));
  const keyFile = join(dir, '..', 'lab.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const out = lines();
  expect(await reportCommand([dir, '--signing-key', keyFile], out.out)).toBe(0);
  expect(out.text()).toMatch(/results\.json was missing: rebuilt/);
  expect(out.text()).toMatch(/verdicts: 4 PASS, 1 FAIL, 1 INCONCLUSIVE/);
  for (const f of ['results.json', 'report.html', 'junit.xml', MANIFEST, SIGNATURE]) expect(existsSync(join(dir, f)), f).toBe(true);
  expect(JSON.parse(read(dir, MANIFEST)).keySource).toBe('file');
  expect(await verifyCommand([dir], lines().out)).toBe(0);
  // The cover names the key the manifest is signed with, by the fingerprint verify checks against.
  const fingerprint = JSON.parse(read(dir, MANIFEST)).publicKeyFingerprint as string;
  expect(read(dir, 'report.html')).toContain(
    `<dd data-field="signed-with">Ed25519 key <span class="mono">${fingerprint}</span> (manifest.json, manifest.sig) — the lab's key (key file)</dd>`,
  );

  // Usage: no folder, a folder that does not exist, a key file that does not exist.
  await expect(reportCommand([], lines().out)).rejects.toThrow(/one run folder/);
  await expect(reportCommand([join(dir, 'nope')], lines().out)).rejects.toThrow(/no such run folder/);
  await expect(reportCommand([dir, '--signing-key', join(dir, 'nope.pem')], lines().out)).rejects.toThrow(/no such key file/);
  await expect(verifyCommand([], lines().out)).rejects.toThrow(/one run folder/);

  // Not a run folder, a results.json that is not JSON, a key that is not Ed25519: exit 1, one line naming the file.
  const stderr: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => (stderr.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const empty = mkdtempSync(join(tmpdir(), 'gbcs-rig-empty-'));
    expect(await reportCommand([empty], lines().out)).toBe(1);
    // As a folder a run left unsigned (its signing never came): nothing to check it against.
    rmSync(join(dir, MANIFEST));
    writeFileSync(join(dir, 'results.json'), '{ cut');
    expect(await reportCommand([dir], lines().out)).toBe(1);
    rmSync(join(dir, 'results.json'));
    const rsa = join(dir, '..', 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(await reportCommand([dir, '--signing-key', rsa], lines().out)).toBe(1);
  } finally {
    process.stderr.write = write;
  }
  expect(stderr.length).toBe(3);
  for (const line of stderr) expect(line).toMatch(/^gbcs-rig report: [^\n]+\n$/);
  expect(stderr[0]).toMatch(/not a run folder/);
  expect(stderr[1]).toMatch(/results\.json: not valid JSON/);
  expect(stderr[2]).toMatch(/rsa\.pem: an rsa key; the run folder is signed with Ed25519/);
});

test('gbcs-rig report refuses to sign again a folder changed since it was signed; --accept-changes reports it as it is and says so', async () => {
  const dir = await runFolder();
  const signedAt = JSON.parse(read(dir, MANIFEST)).createdAt as string;
  const events = join(dir, 'evidence', `CH-IPAN-001--virtual-1`, 'events.jsonl');
  writeFileSync(events, `${read(dir, 'evidence/CH-IPAN-001--virtual-1/events.jsonl')}{"kind":"note","text":"added later"}\n`);
  rmSync(join(dir, 'junit.xml')); // a report format: rewritten by every report, no change of the run's
  const before = read(dir, MANIFEST);
  const stderr: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => (stderr.push(String(s)), true)) as typeof process.stderr.write;
  try {
    expect(await reportCommand([dir], lines().out)).toBe(1);
  } finally {
    process.stderr.write = write;
  }
  expect(stderr.join('')).toMatch(
    new RegExp(
      `changed since it was signed at ${signedAt} \\(key sha256:[0-9a-f]+\\): evidence/CH-IPAN-001--virtual-1/events\\.jsonl: changed — .*nothing was written`,
    ),
  );
  expect(stderr.join('')).not.toContain('junit.xml');
  // Nothing was written: the earlier manifest still stands, and still shows the change.
  expect(read(dir, MANIFEST)).toBe(before);
  expect(existsSync(join(dir, 'junit.xml'))).toBe(false);

  const out = lines();
  expect(await reportCommand([dir, '--accept-changes'], out.out)).toBe(0);
  const superseded = `superseded/manifest-${signedAt.replace(/[:.]/g, '-')}`;
  expect(read(dir, `${superseded}.json`)).toBe(before);
  expect(existsSync(join(dir, `${superseded}.sig`))).toBe(true);
  const html = read(dir, 'report.html');
  expect(html).toContain('signed again after the folder changed since its earlier signing</b> (see Deviations)');
  expect(html).toContain(
    `<li data-deviation="run folder changed after signing"><b>run folder changed after signing</b>: evidence/CH-IPAN-001--virtual-1/events.jsonl: changed — reported and signed again as they are now (gbcs-rig report --accept-changes); the earlier signature is kept in ${superseded}.json</li>`,
  );
  // The new manifest signs the folder as it is, the earlier manifest with it.
  expect(await verifyRun(dir)).toMatchObject({ ok: true });
  expect((JSON.parse(read(dir, MANIFEST)).files as { path: string }[]).map((f) => f.path)).toContain(`${superseded}.json`);
  // Reported again unchanged: nothing to accept.
  expect(await reportCommand([dir], lines().out)).toBe(0);
});

const MQTT_USER = 'bench-operator-7c1f';
const MQTT_PASSWORD = 'pw-9d2e4b7a61c3';

// A campaign whose rig names a HAN network key and MQTT credentials in the environment, as a real lab's does.
async function campaignWithKey(key: string): Promise<string> {
  const c = await runCampaign({
    grep: 'CH-IPAN',
    secretsEnv: {
      mqttUser: 'GBCS_RIG_TEST_MQTT_USER',
      mqttPassword: 'GBCS_RIG_TEST_MQTT_PASSWORD',
      networkKey: 'GBCS_RIG_TEST_NETWORK_KEY',
    },
    env: { GBCS_RIG_TEST_NETWORK_KEY: key, GBCS_RIG_TEST_MQTT_USER: MQTT_USER, GBCS_RIG_TEST_MQTT_PASSWORD: MQTT_PASSWORD },
  });
  expect(c.exitCode, c.stderr).toBe(0);
  return c.dir;
}

test('secrets: a network key, an install code and MQTT credentials seeded through the environment appear in no file of the run folder, the report or the Allure results', async () => {
  const key = '3f9a6c1e5d7b2a4c8e0f1a2b3c4d5e6f';
  const dir = await campaignWithKey(key);
  // The install code travels in the HHT's CCS01, in clear as on air: its bytes are in the captures (the frames heard), nowhere else, and its text nowhere.
  const installCode = Buffer.from(TEST_INSTALL_CODE, 'hex');
  const keys = new KeyTable();
  keys.addNetworkKey(fromHex(key));
  // No redaction here: the report prints no payloads, so the key has no way in.
  await buildReport(dir, { keys });
  await writeManifest(dir, NO_ENV);
  const raw = Buffer.from(key, 'hex');
  for (const file of runFiles(dir).concat(MANIFEST, SIGNATURE)) {
    const bytes = readFileSync(join(dir, file));
    const text = bytes.toString('latin1');
    expect(text.toLowerCase(), file).not.toContain(key);
    expect(bytes.includes(raw), `${file} holds the key's bytes`).toBe(false);
    expect(text.toLowerCase(), `${file} holds the install code`).not.toContain(TEST_INSTALL_CODE);
    if (!file.endsWith('.pcapng')) expect(bytes.includes(installCode), `${file} holds the install code's bytes`).toBe(false);
    expect(text, `${file} holds the MQTT user name`).not.toContain(MQTT_USER);
    expect(text, `${file} holds the MQTT password`).not.toContain(MQTT_PASSWORD);
  }
  expect(
    runFiles(dir).some((f) => f.startsWith('allure-results/')),
    'the Allure results were searched too',
  ).toBe(true);

  // And the redact hook: a key that did reach a result (a careless reason text) is redacted from the report.
  rmSync(join(dir, 'results.json'));
  const file = join(dir, 'evidence', 'CH-IPAN-001--virtual-1', 'result.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as CaseResult;
  c.verdict = 'INCONCLUSIVE';
  c.reason = `decrypted with ${key.toUpperCase()}`;
  writeFileSync(file, JSON.stringify(c));
  const secrets = new RigSecrets({}, key);
  await buildReport(dir, { keys, redact: (t) => secrets.redact(t) });
  for (const f of ['report.html', 'junit.xml']) {
    expect(read(dir, f).toLowerCase(), f).not.toContain(key);
    expect(read(dir, f), f).toContain('decrypted with (redacted)');
  }
});

test('the audit trail and timelines survive a capture cut by a crash', async () => {
  const dir = await runFolder();
  const capture = join(dir, 'evidence', 'CH-IPAN-006--virtual-1', 'han.pcapng');
  appendFileSync(capture, Buffer.from([0x06, 0x00, 0x00, 0x00, 0x40]));
  // Half a line at the end of an event log, as a crash leaves it.
  appendFileSync(join(dir, 'evidence', 'CH-IPAN-006--virtual-1', 'events.jsonl'), '{"t":"2026-01-01T');
  await buildReport(dir);
  const html = read(dir, 'report.html');
  expect(html).toMatch(
    /<ul class="audit-problems"><li>evidence\/CH-IPAN-006--virtual-1\/han\.pcapng: [^<]*frames before it are in the trail<\/li>/,
  );
  expect(html).toMatch(/han\.pcapng #8<\/td>/);
  expect(html).toContain('1 line(s) of events.jsonl could not be read');
  expect(html).toMatch(/<tr data-file="evidence\/CH-IPAN-006--virtual-1\/han\.pcapng">.*?status-changed/);
  expect(readdirSync(dir)).toContain('report.html');
});

test('a device the rig file labels with its serial number and hardware revision is identified by them', async () => {
  const dir = await runFolder();
  const r = results(dir);
  for (const c of r.cases) if (c.device) Object.assign(c.device, { serialNumber: 'CH-2291-004417', hardwareRevision: 'C' });
  writeFileSync(join(dir, 'results.json'), JSON.stringify(r));
  await buildReport(dir);
  expect(read(dir, 'report.html')).toMatch(
    /<tr data-device="virtual-1\/ch">(<td>[^<]*<\/td>|<td class="[^"]*">[^<]*<\/td>){5}<td>Virtual CH \(conformant\)<\/td><td>CH-2291-004417<\/td><td>C<\/td>/,
  );
});
