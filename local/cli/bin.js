#!/usr/bin/env node
// The `sps-workflows` command: runs the CLI bundled ahead of time (build.js), built on first use.
'use strict';
// The AWS SDK warns on every import under Node 20 that its 2027 releases need Node 22: noise here.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...args) => {
  const type = typeof args[0] === 'string' ? args[0] : args[0] && args[0].type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  return emitWarning.call(process, warning, ...args);
};
// Stack traces name the TypeScript sources, not the bundle.
process.setSourceMapsEnabled(true);

const { existsSync } = require('node:fs');
const { buildCli, cliBundle } = require('./build.js');

function load() {
  let file;
  try {
    file = cliBundle();
  } catch (err) {
    process.stderr.write(`sps-workflows: cannot build the CLI from its sources: ${err.message}\n`);
    process.exit(1);
  }
  try {
    return require(file);
  } catch (err) {
    // Removed by another process's rebuild between the lookup and the load: build it again.
    if (err.code === 'MODULE_NOT_FOUND' && !existsSync(file)) return require(buildCli());
    throw err;
  }
}

load()
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
