#!/usr/bin/env node
// The `sps-workflows` command: runs the TypeScript sources through tsx, no build step.
'use strict';
// The AWS SDK warns on every import under Node 20 that its 2027 releases need Node 22: noise here.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...args) => {
  const type = typeof args[0] === 'string' ? args[0] : args[0] && args[0].type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  return emitWarning.call(process, warning, ...args);
};
require('tsx/cjs/api').register();
require('./main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
