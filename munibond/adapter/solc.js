#!/usr/bin/env node
// solc-native.js: make solc-js (the WebAssembly build of the Solidity compiler, from npm) answer
// like the native `solc` binary, so that py-solc-x, brownie and slither can drive it.
//
// Supported: --version, --standard-json (input on stdin), --combined-json with source files or
// `-` (stdin), remappings (prefix=target), --optimize, --optimize-runs, --evm-version,
// --via-ir, --metadata-hash, --base-path, --include-path, --allow-paths, --output-dir,
// --overwrite. Anything else is refused with a message, as native solc would.
//
// The exit code is set through process.exitCode, never process.exit(): process.exit() cuts off
// large JSON output still being written to a pipe.
'use strict';

const fs = require('fs');
const path = require('path');

function loadSolc() {
  const candidates = [];
  if (process.env.MUNIBOND_SOLCJS) candidates.push(process.env.MUNIBOND_SOLCJS);
  // the project's node_modules (this file lives in <project>/munibond/adapter/)
  candidates.push(path.resolve(__dirname, '..', '..', 'node_modules', 'solc'));
  candidates.push('solc');
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      // try the next one
    }
  }
  process.stderr.write('solc-js not found: run `npm ci` in the munibond project (or set MUNIBOND_SOLCJS)\n');
  process.exitCode = 1;
  return null;
}

function nativeVersion(solc) {
  // "0.8.37+commit.f401782d.Emscripten.clang" -> "0.8.37+commit.f401782d.Linux.g++"
  const full = solc.version();
  const m = full.match(/^(\d+\.\d+\.\d+(?:-[^+]+)?\+commit\.[0-9a-f]+)/);
  return (m ? m[1] : full) + '.Linux.g++';
}

function readStdin() {
  return fs.readFileSync(0, 'utf8');
}

function parseArgs(argv) {
  const opts = {
    mode: null,
    combined: null,
    files: [],
    remappings: [],
    optimize: false,
    runs: 200,
    evmVersion: null,
    viaIR: false,
    metadataHash: null,
    basePath: null,
    includePaths: [],
    allowPaths: [],
    outputDir: null,
    overwrite: false,
  };
  const takesValue = new Set([
    '--combined-json', '--optimize-runs', '--evm-version', '--base-path', '--include-path',
    '--allow-paths', '--output-dir', '--metadata-hash', '--revert-strings',
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      const eq = arg.indexOf('=');
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    } else if (takesValue.has(arg)) {
      value = argv[++i];
    }
    switch (arg) {
      case '--version': opts.mode = 'version'; break;
      case '--standard-json': opts.mode = 'standard'; break;
      case '--combined-json': opts.mode = 'combined'; opts.combined = value.split(','); break;
      case '--optimize': opts.optimize = true; break;
      case '--optimize-runs': opts.runs = parseInt(value, 10); opts.optimize = true; break;
      case '--evm-version': opts.evmVersion = value; break;
      case '--via-ir': case '--experimental-via-ir': opts.viaIR = true; break;
      case '--metadata-hash': opts.metadataHash = value; break;
      case '--base-path': opts.basePath = value; break;
      case '--include-path': opts.includePaths.push(value); break;
      case '--allow-paths': opts.allowPaths.push(...value.split(',').filter(Boolean)); break;
      case '--output-dir': case '-o': opts.outputDir = value; break;
      case '--overwrite': opts.overwrite = true; break;
      case '--revert-strings': break; // default behaviour only
      case '--no-color': case '--pretty-json': break;
      default:
        if (arg === '-' || !arg.startsWith('-')) {
          if (arg !== '-' && arg.includes('=') && !fs.existsSync(arg)) {
            opts.remappings.push(arg);
          } else {
            opts.files.push(arg);
          }
        } else {
          throw new Error(`unsupported option ${arg} (solc-js adapter)`);
        }
    }
  }
  return opts;
}

// Resolve an import the way native solc's file reader does: relative to the base path, then each
// include path; absolute paths as they are.
function makeImportCallback(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths, ...opts.allowPaths];
  return function findImports(unitName) {
    const tried = [];
    const candidates = path.isAbsolute(unitName)
      ? [unitName]
      : roots.map((root) => path.resolve(root, unitName));
    for (const file of candidates) {
      tried.push(file);
      try {
        if (fs.statSync(file).isFile()) return { contents: fs.readFileSync(file, 'utf8') };
      } catch (e) {
        // not here
      }
    }
    return { error: `File not found. Searched: ${tried.join(', ')}` };
  };
}

function runStandard(solc, opts) {
  const input = readStdin();
  const output = solc.compile(input, { import: makeImportCallback(opts) });
  process.stdout.write(output);
  process.stdout.write('\n');
}

const COMBINED_SELECTION = {
  abi: ['abi'],
  bin: ['evm.bytecode.object'],
  'bin-runtime': ['evm.deployedBytecode.object'],
  hashes: ['evm.methodIdentifiers'],
  metadata: ['metadata'],
  opcodes: ['evm.bytecode.opcodes'],
  asm: ['evm.legacyAssembly'],
  srcmap: ['evm.bytecode.sourceMap'],
  'srcmap-runtime': ['evm.deployedBytecode.sourceMap'],
  devdoc: ['devdoc'],
  userdoc: ['userdoc'],
  'storage-layout': ['storageLayout'],
  'function-debug': ['evm.bytecode.functionDebugData'],
  'function-debug-runtime': ['evm.deployedBytecode.functionDebugData'],
  'generated-sources': ['evm.bytecode.generatedSources'],
  'generated-sources-runtime': ['evm.deployedBytecode.generatedSources'],
  ast: [],
};

function pick(obj, dotted) {
  return dotted.split('.').reduce((o, k) => (o == null ? o : o[k]), obj);
}

function runCombined(solc, opts) {
  const sources = {};
  for (const file of opts.files) {
    if (file === '-') {
      sources['<stdin>'] = { content: readStdin() };
    } else {
      let unit = file;
      const base = opts.basePath ? path.resolve(opts.basePath) : null;
      if (base && path.resolve(file).startsWith(base + path.sep)) {
        unit = path.relative(base, path.resolve(file));
      }
      sources[unit] = { content: fs.readFileSync(file, 'utf8') };
    }
  }
  if (Object.keys(sources).length === 0) {
    process.stderr.write('Error: No input files given.\n');
    process.exitCode = 1;
    return;
  }
  const selection = new Set();
  for (const key of opts.combined) {
    if (!(key in COMBINED_SELECTION)) throw new Error(`unsupported --combined-json output ${key}`);
    for (const s of COMBINED_SELECTION[key]) selection.add(s);
  }
  const settings = {
    optimizer: { enabled: opts.optimize, runs: opts.runs },
    remappings: opts.remappings,
    outputSelection: { '*': { '*': [...selection], '': opts.combined.includes('ast') ? ['ast'] : [] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.viaIR) settings.viaIR = true;
  if (opts.metadataHash) settings.metadata = { bytecodeHash: opts.metadataHash };
  const input = { language: 'Solidity', sources, settings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: makeImportCallback(opts) }));

  let failed = false;
  for (const err of output.errors || []) {
    process.stderr.write((err.formattedMessage || err.message) + '\n');
    if (err.severity === 'error') failed = true;
  }
  if (failed) {
    process.exitCode = 1;
    return;
  }
  const contracts = {};
  for (const [unit, byName] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(byName)) {
      const entry = {};
      for (const key of opts.combined) {
        if (key === 'ast') continue;
        const value = pick(c, COMBINED_SELECTION[key][0]);
        entry[key] = key === 'metadata' ? value : value === undefined ? '' : value;
      }
      contracts[`${unit}:${name}`] = entry;
    }
  }
  const result = { contracts, version: solc.version() };
  const sourceList = Object.keys(output.sources || {});
  result.sourceList = sourceList;
  if (opts.combined.includes('ast')) {
    result.sources = {};
    for (const unit of sourceList) result.sources[unit] = { AST: output.sources[unit].ast };
  }
  const text = JSON.stringify(result);
  if (opts.outputDir) {
    fs.mkdirSync(opts.outputDir, { recursive: true });
    const target = path.join(opts.outputDir, 'combined.json');
    if (fs.existsSync(target) && !opts.overwrite) {
      process.stderr.write(`Refusing to overwrite existing file "${target}" (use --overwrite to force).\n`);
      process.exitCode = 1;
      return;
    }
    fs.writeFileSync(target, text);
  } else {
    process.stdout.write(text);
    process.stdout.write('\n');
  }
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
    return;
  }
  const solc = loadSolc();
  if (!solc) return;
  try {
    if (opts.mode === 'version') {
      process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${nativeVersion(solc)}\n`);
    } else if (opts.mode === 'standard') {
      runStandard(solc, opts);
    } else if (opts.mode === 'combined') {
      runCombined(solc, opts);
    } else {
      process.stderr.write('solc-js adapter: give --version, --standard-json or --combined-json\n');
      process.exitCode = 1;
    }
  } catch (e) {
    process.stderr.write(`${e.stack || e}\n`);
    process.exitCode = 1;
  }
}

main();
