// The product's documentation stays whole: every relative link in README.md and docs/*.md reaches a file
// (and a heading, when it names one), and every requirement id the suites, the firmware profiles and the
// lab settings use has its entry in docs/requirements.md, naming each case that cites it.
import { expect, test } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { LAB_SETTINGS, LAB_SETTING_NAMES } from '../../rigs/lab-settings.ts';
import { ROOT } from '../../paths.ts';

const DOCS = join(ROOT, 'docs');
const PAGES = [
  join(ROOT, 'README.md'),
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(DOCS, f)),
];
const REQUIREMENTS = readFileSync(join(DOCS, 'requirements.md'), 'utf8');

/** Markdown without its fenced code blocks, where a `#` line is no heading. */
function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = heading.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

test('every relative link in README.md and docs/ reaches a file, and the heading it names', () => {
  const broken: string[] = [];
  let links = 0;
  for (const page of PAGES) {
    // Inline code is no link either: `[x](y)` there is an example.
    const text = withoutFences(readFileSync(page, 'utf8')).replace(/`[^`\n]*`/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue;
      links++;
      const [path, anchor] = target.split('#');
      const file = path === '' ? page : resolve(dirname(page), decodeURI(path));
      const where = `${relative(ROOT, page)}: ${target}`;
      if (!existsSync(file)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor))
        broken.push(`${where} (no such heading)`);
    }
  }
  expect(links).toBeGreaterThan(40);
  expect(broken).toEqual([]);
});

test('the anchors are GitHub-style', () => {
  expect([...anchorsOf('# The inter-PAN window suite (`suites/interpan-window.spec.ts`)\n## A. B\n## A. B\n')]).toEqual([
    'the-inter-pan-window-suite-suitesinterpan-windowspects',
    'a-b',
    'a-b-1',
  ]);
});

/** The section of docs/requirements.md that defines `id` (its `### id` heading up to the next heading). */
function entryOf(id: string): string | undefined {
  const start = REQUIREMENTS.search(new RegExp(`^### ${id.replace(/[-]/g, '\\-')}$`, 'm'));
  if (start < 0) return undefined;
  const body = REQUIREMENTS.indexOf('\n', start) + 1;
  const next = REQUIREMENTS.slice(body).search(/^#{1,3} /m);
  return next < 0 ? REQUIREMENTS.slice(start) : REQUIREMENTS.slice(start, body + next);
}

/** Each case of the suites: its id (a `${role}-…` template keeps the part after the role) and its requirement ids. */
function casesOfSuites(): { file: string; id: string; requirements: string[] }[] {
  const suites = join(ROOT, 'suites');
  const cases: { file: string; id: string; requirements: string[] }[] = [];
  for (const file of readdirSync(suites).filter((f) => f.endsWith('.spec.ts'))) {
    const text = readFileSync(join(suites, file), 'utf8');
    for (const m of text.matchAll(/\bid: (?:'([^']+)'|`\$\{\w+\}-([^`]+)`),[\s\S]*?\brequirements: \[([^\]]*)\]/g)) {
      const requirements = [...m[3].matchAll(/'([^']+)'/g)].map((r) => r[1]);
      cases.push({ file, id: m[1] ?? m[2], requirements });
    }
  }
  return cases;
}

test('every requirement id the suites cite has its entry in docs/requirements.md, naming the case', () => {
  const cases = casesOfSuites();
  expect(cases.length).toBeGreaterThanOrEqual(18);
  const problems: string[] = [];
  for (const c of cases) {
    for (const id of c.requirements) {
      const entry = entryOf(id);
      if (entry === undefined) problems.push(`${c.file} ${c.id}: ${id} has no entry (### ${id})`);
      else if (!entry.includes(c.id)) problems.push(`${c.file} ${c.id}: the entry of ${id} does not name ${c.id}`);
    }
  }
  expect(problems).toEqual([]);
});

test('every requirement a firmware profile breaks or a lab setting serves has its entry, and every lab setting is named', () => {
  const profiles = join(ROOT, 'firmware-images', 'profiles');
  const ids = new Set<string>();
  for (const file of readdirSync(profiles).filter((f) => f.endsWith('.yaml'))) {
    const breaks = /^breaks:\s*\[([^\]]*)\]/m.exec(readFileSync(join(profiles, file), 'utf8'));
    for (const id of breaks?.[1].split(',') ?? []) if (id.trim()) ids.add(id.trim());
  }
  for (const name of LAB_SETTING_NAMES) {
    for (const part of LAB_SETTINGS[name].serves.split(',')) {
      const id = /^[A-Z]+(-\d+)?/.exec(part.trim())?.[0];
      if (id && part.trim() !== 'rig') ids.add(id);
    }
  }
  expect(ids.size).toBeGreaterThan(15);
  expect([...ids].filter((id) => entryOf(id) === undefined)).toEqual([]);
  expect(LAB_SETTING_NAMES.filter((name) => !REQUIREMENTS.includes(`\`${name}\``))).toEqual([]);
});
