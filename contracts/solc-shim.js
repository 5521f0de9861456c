#!/usr/bin/env node
// A stand-in for the native solc binary so that forge builds offline: it answers the two
// calls forge makes (`--version`, and `--standard-json` with the input on stdin) through
// the solc package's JavaScript compiler. Named in foundry.toml (`solc = "solc-shim.js"`).
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function findImports(importPath) {
  // forge sends every source's content; this only serves a compiler that asks for more.
  try {
    return { contents: fs.readFileSync(path.resolve(importPath), 'utf8') };
  } catch (err) {
    return { error: `file not found: ${importPath}` };
  }
}

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
} else if (args.includes('--standard-json')) {
  const input = fs.readFileSync(0, 'utf8');
  process.stdout.write(solc.compile(input, { import: findImports }));
} else {
  process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
  process.exit(1);
}
