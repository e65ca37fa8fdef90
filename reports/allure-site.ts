// The Allure 3 site of a run, generated offline by the `allure` package from the run's
// allure-results, with history kept across runs in a history folder (default reports/history/).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ROOT } from '../paths.ts';

export const DEFAULT_HISTORY_DIR = join(ROOT, 'reports', 'history');

export type AllureOutcome = { written: true; dir: string; history: string } | { written: false; reason: string };

export async function buildAllureSite(
  runDir: string,
  name: string,
  historyDir = process.env.GBCS_RIG_ALLURE_HISTORY ?? DEFAULT_HISTORY_DIR,
): Promise<AllureOutcome> {
  const results = join(runDir, 'allure-results');
  if (!existsSync(results)) return { written: false, reason: `no allure-results in ${runDir}` };
  mkdirSync(historyDir, { recursive: true });
  const history = resolve(historyDir, 'history.jsonl');
  const output = join(runDir, 'allure-report');
  const configDir = mkdtempSync(join(tmpdir(), 'gbcs-rig-allure-'));
  const config = join(configDir, 'allurerc.json');
  // Grouped as a lab reads it: modification / spec area, then requirement area, then requirement.
  writeFileSync(
    config,
    JSON.stringify({ name, output, historyPath: history, plugins: { awesome: { options: { groupBy: ['epic', 'feature', 'story'] } } } }),
  );
  // The package exports no package.json: its CLI sits one folder above its main module (dist/).
  const cli = join(dirname(createRequire(import.meta.url).resolve('allure')), '..', 'cli.js');
  try {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((done) => {
      let stderr = '';
      const child = spawn(process.execPath, [cli, 'generate', results, '--config', config], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      });
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (c) => done({ code: c ?? 1, stderr }));
    });
    if (code !== 0) return { written: false, reason: `allure generate exited ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}` };
    return { written: true, dir: output, history };
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
}
