import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/^.*?\/dist\//, 'dist/');

/**
 * Prints the heaviest frames of a V8 .cpuprofile (`node --cpu-prof`): self time per
 * function, then self time per package/file, so the hot path's costs show at a glance.
 */
export async function printTopFrames(
  file: string,
  limit: number,
  log: (line: string) => void,
): Promise<void> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const total = [...selfUs.values()].reduce((sum, value) => sum + value, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = shortUrl(frame.url) || '(native)';
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const module = where.startsWith('dist/') ? where : where.split('/').slice(0, 1).join('/');
    byFile.set(module, (byFile.get(module) ?? 0) + us);
  }
  const print = (title: string, entries: Map<string, number>) => {
    log(`\n${title} (${file}, ${(total / 1e6).toFixed(1)} s sampled)`);
    for (const [key, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      log(
        `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`,
      );
    }
  };
  print('top self time by function', byFunction);
  print('self time by package / file', byFile);
}
