/**
 * Imported first by the CLI: on a Node.js below the supported floor, says so and exits, before
 * a later module fails with an error that names some missing internal instead (on Node 20,
 * "Cannot read properties of undefined (reading 'DatabaseSync')" from the SQLite store).
 * npm only warns about `engines` (EBADENGINE), so the check is Herald's own.
 */
const FLOOR = { major: 22, minor: 13 };

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < FLOOR.major || (major === FLOOR.major && minor < FLOOR.minor)) {
  process.stderr.write(
    `herald: Node.js ${process.versions.node} is not supported; Herald needs ${FLOOR.major}.${FLOOR.minor} or later ` +
      '(the maintained LTS lines: 22, 24 or 26).\n',
  );
  process.exit(1);
}
