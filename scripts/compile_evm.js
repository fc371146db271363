#!/usr/bin/env node
/*
 * Compile the project's Solidity contracts into committed JSON artifacts.
 *
 * Why this script and not hardhat/forge/py-solc-x: those download a compiler at run
 * time, and build machines here have no internet. The npm `solc` package (pinned exactly
 * in package.json) is the compiler itself (WebAssembly), so a rebuild from the lockfile
 * is offline and byte-for-byte reproducible.
 *
 * Usage:
 *   node scripts/compile_evm.js           write tokens/contracts/evm/artifacts/<Name>.json
 *   node scripts/compile_evm.js --check   compile in memory; exit 1 if any committed
 *                                         artifact is missing, stale or unexpected
 *
 * Determinism: one standard-JSON input with repo-relative source unit names, an explicit
 * EVM version, `bytecodeHash: "none"` (so the CBOR trailer carries only the compiler
 * version, not a hash that changes with comments or file paths), and recursively sorted
 * keys in the written JSON. The source SHA-256 is recorded so that a source edit is
 * detected even when it does not change the bytecode.
 */
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const CONTRACTS_DIR = path.join(REPO_ROOT, 'tokens', 'contracts', 'evm');
const ARTIFACTS_DIR = path.join(CONTRACTS_DIR, 'artifacts');
const NODE_MODULES = path.join(REPO_ROOT, 'node_modules');
// Only these package prefixes may be imported; anything else is a mistake in a contract.
const ALLOWED_IMPORT_PREFIXES = ['@openzeppelin/contracts/'];

const SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: 'none' },
  outputSelection: {
    '*': {
      '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'],
    },
  },
};

function loadSolc() {
  try {
    return require('solc');
  } catch (err) {
    console.error('compile_evm: cannot load the npm "solc" package: ' + err.message);
    console.error('compile_evm: run `npm ci` in ' + REPO_ROOT + ' first.');
    process.exit(2);
  }
}

/** Recursively sort object keys so JSON output does not depend on insertion order. */
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
    return out;
  }
  return value;
}

function sha256Hex(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Source unit name used inside the compiler: repo-relative POSIX path. */
function unitName(absPath) {
  return path.relative(REPO_ROOT, absPath).split(path.sep).join('/');
}

/** Import callback: serve allowed package imports from node_modules, nothing else. */
function findImports(importPath) {
  if (!ALLOWED_IMPORT_PREFIXES.some((prefix) => importPath.startsWith(prefix))) {
    return { error: 'import not allowed (only ' + ALLOWED_IMPORT_PREFIXES.join(', ') + '): ' + importPath };
  }
  const resolved = path.resolve(NODE_MODULES, importPath);
  if (!resolved.startsWith(NODE_MODULES + path.sep)) {
    return { error: 'import escapes node_modules: ' + importPath };
  }
  try {
    return { contents: fs.readFileSync(resolved, 'utf8') };
  } catch (err) {
    return { error: 'cannot read ' + importPath + ' (run `npm ci`?): ' + err.message };
  }
}

/** Compile every tokens/contracts/evm/*.sol; return {Name: artifactText}. */
function buildArtifacts(solc) {
  const files = fs
    .readdirSync(CONTRACTS_DIR)
    .filter((name) => name.endsWith('.sol'))
    .sort();
  if (files.length === 0) throw new Error('no .sol files in ' + CONTRACTS_DIR);

  const sources = {};
  const sourceText = {};
  for (const file of files) {
    const abs = path.join(CONTRACTS_DIR, file);
    const text = fs.readFileSync(abs, 'utf8');
    sources[unitName(abs)] = { content: text };
    sourceText[file] = text;
  }

  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const diagnostics = output.errors || [];
  const errors = diagnostics.filter((d) => d.severity === 'error');
  for (const d of diagnostics) {
    const stream = d.severity === 'error' ? console.error : console.warn;
    stream((d.formattedMessage || d.message).trimEnd());
  }
  if (errors.length > 0) throw new Error('solc reported ' + errors.length + ' error(s)');

  const compiler = solc.version();
  const artifacts = {};
  for (const file of files) {
    const name = path.basename(file, '.sol');
    const unit = unitName(path.join(CONTRACTS_DIR, file));
    const contract = output.contracts && output.contracts[unit] && output.contracts[unit][name];
    if (!contract) throw new Error(unit + ' must define a contract named ' + name);
    const bytecode = contract.evm.bytecode.object;
    const deployed = contract.evm.deployedBytecode.object;
    if (!bytecode || !deployed) throw new Error(name + ' produced empty bytecode (abstract?)');
    const artifact = sortKeys({
      contract_name: name,
      source_path: unit,
      source_sha256: sha256Hex(sourceText[file]),
      compiler,
      settings: SETTINGS,
      abi: contract.abi,
      bytecode: '0x' + bytecode,
      deployed_bytecode: '0x' + deployed,
    });
    artifacts[name] = JSON.stringify(artifact, null, 2) + '\n';
  }
  return artifacts;
}

function existingArtifactNames() {
  if (!fs.existsSync(ARTIFACTS_DIR)) return [];
  return fs
    .readdirSync(ARTIFACTS_DIR)
    .filter((name) => name.endsWith('.json'))
    .map((name) => path.basename(name, '.json'))
    .sort();
}

function check(artifacts) {
  const problems = [];
  for (const [name, text] of Object.entries(artifacts)) {
    const file = path.join(ARTIFACTS_DIR, name + '.json');
    if (!fs.existsSync(file)) {
      problems.push(unitName(file) + ': missing');
    } else if (fs.readFileSync(file, 'utf8') !== text) {
      problems.push(unitName(file) + ': differs from a fresh build');
    }
  }
  for (const name of existingArtifactNames()) {
    if (!(name in artifacts)) {
      problems.push(unitName(path.join(ARTIFACTS_DIR, name + '.json')) + ': no matching .sol source');
    }
  }
  if (problems.length > 0) {
    console.error('compile_evm --check: committed EVM artifacts are out of date:');
    for (const p of problems) console.error('  - ' + p);
    console.error('Run `node scripts/compile_evm.js` (or `make contracts`) and commit the result.');
    return 1;
  }
  console.log('compile_evm --check: ' + Object.keys(artifacts).length + ' artifact(s) up to date');
  return 0;
}

function write(artifacts) {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const [name, text] of Object.entries(artifacts)) {
    const file = path.join(ARTIFACTS_DIR, name + '.json');
    fs.writeFileSync(file, text);
    console.log('wrote ' + unitName(file));
  }
  for (const name of existingArtifactNames()) {
    if (!(name in artifacts)) {
      console.warn('warning: stale artifact without source: ' + name + '.json (delete it)');
    }
  }
  return 0;
}

function main(argv) {
  const args = argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error('usage: node scripts/compile_evm.js [--check]');
    return 2;
  }
  const solc = loadSolc();
  let artifacts;
  try {
    artifacts = buildArtifacts(solc);
  } catch (err) {
    console.error('compile_evm: ' + err.message);
    return 1;
  }
  return args.includes('--check') ? check(artifacts) : write(artifacts);
}

process.exitCode = main(process.argv);
