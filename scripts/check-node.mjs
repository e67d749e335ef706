// Runs before every root script, in plain JavaScript so that any Node.js can run it. On Linux
// (x64, arm64) `pnpm install` puts Node.js 24 from the npm registry's `node-linux-*` package
// first on the scripts' PATH, so this passes whatever `node` the machine has. Elsewhere the
// machine's own `node` runs the TypeScript sources, which needs type stripping (22.18+):
// say so in one line instead of failing with ERR_UNKNOWN_FILE_EXTENSION.
const MINIMUM = [22, 18];
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  console.error(
    `Gatehouse needs Node.js ${MINIMUM.join('.')} or newer (24 LTS recommended); this is Node.js ${process.versions.node}. Install Node.js 24 and run the command again.`,
  );
  process.exit(1);
}
