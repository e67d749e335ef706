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

/** Where a frame's code lives: an npm package, a workspace file, Node itself, or the VM. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  const workspace = url.match(/\/packages\/([^/]+)\/src\/(.+)$/);
  if (workspace) return `@gatehouse/${workspace[1]}/${workspace[2]!.split('/')[0]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time by area (package, workspace folder, node: module), largest first. */
  readonly byArea: { area: string; ms: number; percent: number }[];
  readonly topFunctions: { name: string; ms: number; percent: number }[];
  /** Inclusive time of frames from workspace code (the time Gatehouse's own code is on the stack). */
  readonly inclusiveWorkspace: { name: string; ms: number; percent: number }[];
}

/** Self and inclusive time from a V8 `.cpuprofile` (as `node --cpu-prof` writes it). */
export async function summarizeProfile(path: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let total = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    const { url, functionName, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += micros;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + micros);
    const name = `${functionName || '(anonymous)'} ${area}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    // Inclusive time of workspace frames: walk up the stack once per distinct frame name.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!frame.url.includes('/packages/')) continue;
      const frameName = `${frame.functionName || '(anonymous)'} ${areaOf(frame.url, frame.functionName)}:${frame.lineNumber + 1}`;
      if (seen.has(frameName)) continue;
      seen.add(frameName);
      inclusive.set(frameName, (inclusive.get(frameName) ?? 0) + micros);
    }
  }
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({
        name,
        ms: Math.round(micros / 1000),
        percent: Math.round((micros / total) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(total / 1000),
    byArea: rank(areas).map(({ name, ms, percent }) => ({ area: name, ms, percent })),
    topFunctions: rank(functions),
    inclusiveWorkspace: rank(inclusive),
  };
}
