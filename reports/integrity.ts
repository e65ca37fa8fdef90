// The run folder's integrity: manifest.json lists every file with its sha256 and size, and
// manifest.sig is an Ed25519 signature over manifest.json's bytes. The public key travels in the
// manifest, so anyone can check the folder; a lab pins its key to know who signed.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256OfFile } from './run-folder.ts';

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';
/** The environment variable holding the signing key (PEM, PKCS#8, Ed25519). */
export const SIGNING_KEY_ENV = 'GBCS_RIG_SIGNING_KEY';

export interface ManifestFile {
  /** Relative to the run folder, `/`-separated. */
  path: string;
  sha256: string;
  size: number;
}

export interface Manifest {
  schema: 'gbcs-rig/manifest@1';
  createdAt: string;
  signature: { algorithm: 'Ed25519'; file: typeof SIGNATURE; over: typeof MANIFEST };
  /** Where the private key came from; `ephemeral`: made for this manifest and thrown away. */
  keySource: 'env' | 'file' | 'given' | 'ephemeral';
  keyNote?: string;
  /** SPKI PEM of the signing key. */
  publicKey: string;
  /** sha256 of the public key's DER (SPKI), to compare with a lab's published key. */
  publicKeyFingerprint: string;
  files: ManifestFile[];
}

export interface SigningKeyOptions {
  /** A key file (PEM, PKCS#8); wins over the environment. */
  file?: string;
  /** The key itself (PEM, PKCS#8). */
  pem?: string;
  /** Where GBCS_RIG_SIGNING_KEY is read from. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export type IntegrityProblem = { file: string; problem: 'changed' | 'missing' | 'unexpected' | 'bad signature' };

/** A signing key that cannot be used: says where it came from, never its content. */
export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

function privateKeyFrom(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new SigningKeyError(
      `${where}: not a PEM private key (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}); expected an Ed25519 key in PKCS#8 PEM, e.g. from "openssl genpkey -algorithm ed25519"`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new SigningKeyError(`${where}: an ${key.asymmetricKeyType ?? 'unknown'} key; the run folder is signed with Ed25519`);
  return key;
}

function resolveKey(o: SigningKeyOptions): { key: KeyObject; source: Manifest['keySource'] } {
  if (o.file) {
    let pem: string;
    try {
      pem = readFileSync(o.file, 'utf8');
    } catch (e) {
      throw new SigningKeyError(`${o.file}: cannot read the signing key (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return { key: privateKeyFrom(pem, o.file), source: 'file' };
  }
  if (o.pem) return { key: privateKeyFrom(o.pem, 'the given signing key'), source: 'given' };
  const fromEnv = (o.env ?? process.env)[SIGNING_KEY_ENV];
  if (fromEnv) return { key: privateKeyFrom(fromEnv, `environment variable ${SIGNING_KEY_ENV}`), source: 'env' };
  return { key: generateKeyPairSync('ed25519').privateKey, source: 'ephemeral' };
}

/** A signing key resolved once: the report names its fingerprint on the cover, then the manifest is signed with it. */
export interface SigningKey {
  key: KeyObject;
  source: Manifest['keySource'];
  /** SPKI PEM. */
  publicKey: string;
  fingerprint: string;
}

/** Resolves the key a run folder will be signed with (a key file, a PEM, GBCS_RIG_SIGNING_KEY, else a new ephemeral one). */
export function signingKey(o: SigningKeyOptions = {}): SigningKey {
  const { key, source } = resolveKey(o);
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return { key, source, publicKey, fingerprint: publicKeyFingerprint(publicKey) };
}

/** Checks the key a signing will use (a key file, a PEM or GBCS_RIG_SIGNING_KEY) before the work that ends in it; throws SigningKeyError. */
export function checkSigningKey(o: SigningKeyOptions): void {
  if (o.file || o.pem || (o.env ?? process.env)[SIGNING_KEY_ENV]) resolveKey(o);
}

/** Every regular file under the run folder except the manifest and its signature, sorted by path. */
export function runFiles(runDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(join(runDir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(path);
      // Only regular files are the run's: a link (e.g. to a device such as /dev/full) has no content of its own to hash.
      else if (d.isFile() && !(rel === '' && (d.name === MANIFEST || d.name === SIGNATURE))) out.push(path);
    }
  };
  walk('');
  // Byte order, not locale order: the manifest must come out the same on every machine.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function publicKeyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** Writes manifest.json and manifest.sig; the key from `key.file`, `key.pem`, GBCS_RIG_SIGNING_KEY, else an ephemeral one. */
export async function writeManifest(runDir: string, keyOptions: SigningKeyOptions | SigningKey = {}): Promise<Manifest> {
  const { key, source, publicKey } = 'fingerprint' in keyOptions ? keyOptions : signingKey(keyOptions);
  const files: ManifestFile[] = [];
  for (const path of runFiles(runDir)) files.push({ path, ...(await sha256OfFile(join(runDir, path))) });
  const manifest: Manifest = {
    schema: 'gbcs-rig/manifest@1',
    createdAt: new Date().toISOString(),
    signature: { algorithm: 'Ed25519', file: SIGNATURE, over: MANIFEST },
    keySource: source,
    ...(source === 'ephemeral' && {
      keyNote: `No signing key was given (${SIGNING_KEY_ENV} or a key file): this key was made for this manifest and discarded. The signature shows the folder is unchanged since signing only to someone who trusts this public key; it does not identify the lab.`,
    }),
    publicKey,
    publicKeyFingerprint: publicKeyFingerprint(publicKey),
    files,
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(runDir, MANIFEST), bytes);
  writeFileSync(join(runDir, SIGNATURE), sign(null, bytes, key).toString('base64') + '\n');
  return manifest;
}

export interface VerifyOptions {
  /** The key the lab publishes (SPKI PEM): a manifest signed with any other key is a bad signature. */
  trustedPublicKey?: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: IntegrityProblem[];
  manifest?: Manifest;
}

/** The manifest in these bytes, or undefined when they are not a gbcs-rig manifest. */
export function manifestOf(bytes: Buffer): Manifest | undefined {
  try {
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    return typeof manifest.publicKey === 'string' && Array.isArray(manifest.files) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** Checks the signature, then every listed file (changed, missing) and every file not listed (unexpected). */
export async function verifyRun(runDir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const problems: IntegrityProblem[] = [];
  const manifestFile = join(runDir, MANIFEST);
  const sigFile = join(runDir, SIGNATURE);
  if (!existsSync(manifestFile)) problems.push({ file: MANIFEST, problem: 'missing' });
  if (!existsSync(sigFile)) problems.push({ file: SIGNATURE, problem: 'missing' });
  if (problems.length) return { ok: false, problems };

  const bytes = readFileSync(manifestFile);
  const manifest = manifestOf(bytes);
  // Without a readable manifest nothing can be checked: it stands for the whole folder.
  if (!manifest) return { ok: false, problems: [{ file: MANIFEST, problem: 'changed' }] };
  let signed = false;
  try {
    const signature = Buffer.from(readFileSync(sigFile, 'utf8').trim(), 'base64');
    const publicKey = createPublicKey(manifest.publicKey);
    signed = verify(null, bytes, publicKey, signature);
    if (signed && options.trustedPublicKey)
      signed = publicKeyFingerprint(options.trustedPublicKey) === publicKeyFingerprint(manifest.publicKey);
  } catch {
    signed = false;
  }
  if (!signed) problems.push({ file: SIGNATURE, problem: 'bad signature' });
  problems.push(...(await filesAgainst(runDir, manifest)));
  return { ok: problems.length === 0, problems, manifest };
}

/** Every file the manifest lists that changed or is gone, and every file it does not list: its signature aside. */
export async function filesAgainst(runDir: string, manifest: Manifest): Promise<IntegrityProblem[]> {
  const problems: IntegrityProblem[] = [];
  const present = new Set(runFiles(runDir));
  for (const f of manifest.files) {
    if (!present.has(f.path)) {
      problems.push({ file: f.path, problem: 'missing' });
      continue;
    }
    present.delete(f.path);
    const now = await sha256OfFile(join(runDir, f.path));
    if (now.sha256 !== f.sha256 || now.size !== f.size) problems.push({ file: f.path, problem: 'changed' });
  }
  for (const path of present) problems.push({ file: path, problem: 'unexpected' });
  return problems;
}
