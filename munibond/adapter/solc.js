#!/usr/bin/env node
// solc.js: make solc-js (the WebAssembly build of the Solidity compiler, from npm) answer like the
// native `solc` binary, so that py-solc-x, brownie and slither can drive it.
//
// Supported: --version, --help, --standard-json (input on stdin), --combined-json with source
// files or `-` (stdin), remappings (prefix=target), --optimize, --optimize-runs, --no-optimize-yul,
// --yul-optimizations, --evm-version, --via-ir, --metadata-hash, --metadata-literal,
// --revert-strings, --base-path, --include-path, --allow-paths, --output-dir, --overwrite.
// Anything else is refused the way native solc refuses it ("unrecognised option '--x'"), which
// py-solc-x turns into UnknownOption.
//
// Files are read the way native solc's FileReader reads them: a source unit name is looked up
// under the base path (the working directory when there is none) and each include path, symlinks
// resolved; two hits are an ambiguous import; the file found must lie inside an allowed directory
// (--allow-paths, the base path or '.', include paths, and on the command line the folders of the
// input files and of remapping targets). So a project that compiles here compiles with native solc.
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

class UsageError extends Error {}

// --combined-json selectors -> standard-json output selection (first entry is what is reported)
const COMBINED_SELECTION = {
  abi: ['abi'],
  asm: ['evm.legacyAssembly'],
  ast: [],
  bin: ['evm.bytecode.object'],
  'bin-runtime': ['evm.deployedBytecode.object'],
  devdoc: ['devdoc'],
  'function-debug': ['evm.bytecode.functionDebugData'],
  'function-debug-runtime': ['evm.deployedBytecode.functionDebugData'],
  'generated-sources': ['evm.bytecode.generatedSources'],
  'generated-sources-runtime': ['evm.deployedBytecode.generatedSources'],
  hashes: ['evm.methodIdentifiers'],
  metadata: ['metadata'],
  opcodes: ['evm.bytecode.opcodes'],
  srcmap: ['evm.bytecode.sourceMap'],
  'srcmap-runtime': ['evm.deployedBytecode.sourceMap'],
  'storage-layout': ['storageLayout'],
  'transient-storage-layout': ['transientStorageLayout'],
  userdoc: ['userdoc'],
};

function helpText() {
  // py-solc-x reads the list of --combined-json outputs from the last word of this line.
  return [
    'solc, the Solidity commandline compiler (solc-js adapter).',
    '',
    'Usage: solc [options] [input_file...]',
    '',
    'Supported options:',
    '  --help               Show help message and exit.',
    '  --version            Show version and exit.',
    '  --standard-json      Switch to Standard JSON input / output mode (input on stdin).',
    `  --combined-json ${Object.keys(COMBINED_SELECTION).join(',')}`,
    '                       Output a single json document containing the specified information.',
    '  --base-path path     Use the given path as the root of the source tree.',
    '  --include-path path  Make an additional source directory available to the default import callback.',
    '  --allow-paths path(s)',
    '                       Allow a given path for imports. A list of paths can be supplied by',
    '                       separating them with a comma.',
    '  --evm-version version',
    '  --via-ir',
    '  --optimize',
    '  --optimize-runs n',
    '  --no-optimize-yul',
    '  --yul-optimizations steps',
    '  --metadata-hash ipfs|bzzr1|none',
    '  --metadata-literal',
    '  --revert-strings default|strip|debug|verboseDebug',
    '  -o [ --output-dir ] path',
    '  --overwrite',
    '',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = {
    mode: null,
    combined: null,
    files: [],
    remappings: [],
    optimize: false,
    runs: 200,
    noOptimizeYul: false,
    yulOptimizations: null,
    evmVersion: null,
    viaIR: false,
    metadataHash: null,
    metadataLiteral: false,
    revertStrings: null,
    basePath: null,
    includePaths: [],
    allowPaths: [],
    outputDir: null,
    overwrite: false,
  };
  const takesValue = new Set([
    '--combined-json', '--optimize-runs', '--evm-version', '--base-path', '--include-path',
    '--allow-paths', '--output-dir', '-o', '--metadata-hash', '--revert-strings',
    '--yul-optimizations',
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      const eq = arg.indexOf('=');
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    } else if (takesValue.has(arg)) {
      if (i + 1 >= argv.length) throw new UsageError(`the required argument for option '${arg}' is missing`);
      value = argv[++i];
    }
    switch (arg) {
      case '--help': opts.mode = opts.mode || 'help'; break;
      case '--version': opts.mode = opts.mode || 'version'; break;
      case '--standard-json': opts.mode = 'standard'; break;
      case '--combined-json':
        opts.mode = 'combined';
        opts.combined = value.split(',').filter(Boolean);
        for (const key of opts.combined) {
          if (!(key in COMBINED_SELECTION)) throw new UsageError(`Invalid option to --combined-json: ${key}`);
        }
        break;
      case '--optimize': opts.optimize = true; break;
      // as in native solc, the number of runs alone does not switch the optimizer on
      case '--optimize-runs': opts.runs = parseInt(value, 10); break;
      case '--optimize-yul': break; // legacy flag: the Yul optimizer runs whenever --optimize is given
      case '--no-optimize-yul': opts.noOptimizeYul = true; break;
      case '--yul-optimizations': opts.yulOptimizations = value; break;
      case '--evm-version': opts.evmVersion = value; break;
      case '--via-ir': case '--experimental-via-ir': opts.viaIR = true; break;
      case '--metadata-hash': opts.metadataHash = value; break;
      case '--metadata-literal': opts.metadataLiteral = true; break;
      case '--revert-strings': opts.revertStrings = value; break;
      case '--base-path': opts.basePath = value; break;
      case '--include-path': opts.includePaths.push(value); break;
      case '--allow-paths': opts.allowPaths.push(...value.split(',').filter(Boolean)); break;
      case '--output-dir': case '-o': opts.outputDir = value; break;
      case '--overwrite': opts.overwrite = true; break;
      case '--no-color': case '--pretty-json': case '--color': break;
      default:
        if (arg === '-' || !arg.startsWith('-')) {
          // native solc: any positional argument containing '=' is a remapping
          if (arg !== '-' && arg.includes('=') && !fs.existsSync(arg)) {
            opts.remappings.push(arg);
          } else {
            opts.files.push(arg);
          }
        } else {
          throw new UsageError(`unrecognised option '${arg}'`);
        }
    }
  }
  if (opts.includePaths.length > 0 && !opts.basePath) {
    throw new UsageError('--include-path option requires a non-empty base path.');
  }
  return opts;
}

// Absolute, normalised, symlinks resolved as far as the path exists (boost's weakly_canonical).
function weaklyCanonical(p) {
  let head = path.resolve(p);
  const tail = [];
  for (;;) {
    try {
      const real = fs.realpathSync(head);
      return tail.length ? path.join(real, ...tail.reverse()) : real;
    } catch (e) {
      const parent = path.dirname(head);
      if (parent === head) return path.resolve(p);
      tail.push(path.basename(head));
      head = parent;
    }
  }
}

function isPathPrefix(prefix, p) {
  const rel = path.relative(prefix, p);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

// Native solc's FileReader::readFile, as an import callback for solc-js.
function makeImportCallback(opts, extraAllowed) {
  const base = opts.basePath ? path.resolve(opts.basePath) : '';
  const prefixes = [base, ...opts.includePaths.map((p) => path.resolve(p))];
  const allowed = [...opts.allowPaths, base || '.', ...prefixes.slice(1), ...extraAllowed];
  const allowedCanonical = allowed.map((d) => weaklyCanonical(d));
  const quote = (p) => `"${p}"`;
  return function findImports(unitName) {
    const stripped = unitName.startsWith('file://') ? unitName.slice(7) : unitName;
    const candidates = [];
    for (const prefix of prefixes) {
      // boost's `prefix / name` appends even an absolute name; an empty prefix is the cwd
      const joined = prefix ? path.join(prefix, stripped) : stripped;
      if (fs.existsSync(joined)) {
        const canonical = weaklyCanonical(joined);
        if (!candidates.includes(canonical)) candidates.push(canonical);
      }
    }
    if (candidates.length === 0) {
      const searched = prefixes.map((p) => quote(p || '')).join(', ');
      return { error: `File not found. Searched the following locations: ${searched}.` };
    }
    if (candidates.length >= 2) {
      return {
        error: 'Ambiguous import. Multiple matching files found inside base path and/or include '
          + `paths: ${candidates.map(quote).join(', ')}.`,
      };
    }
    const file = candidates[0];
    if (!allowedCanonical.some((dir) => isPathPrefix(dir, file))) {
      return {
        error: `File outside of allowed directories. The following are allowed: ${allowed.map(quote).join(', ')}.`,
      };
    }
    if (!fs.statSync(file).isFile()) return { error: 'Not a valid file.' };
    return { contents: fs.readFileSync(file, 'utf8') };
  };
}

function checkBasePath(opts) {
  for (const p of [opts.basePath, ...opts.includePaths]) {
    if (!p) continue;
    if (!fs.existsSync(p)) throw new UsageError(`Base path does not exist: "${p}"`);
    if (!fs.statSync(p).isDirectory()) throw new UsageError(`Base path is not a directory: "${p}"`);
  }
}

function runStandard(solc, opts) {
  checkBasePath(opts);
  const input = readStdin();
  const output = solc.compile(input, { import: makeImportCallback(opts, []) });
  process.stdout.write(output);
  process.stdout.write('\n');
}

// Native solc's FileReader::cliPathToSourceUnitName: strip the base path (or the cwd) or the first
// include path that contains the file; otherwise the absolute, normalised path.
function cliPathToSourceUnitName(opts, file) {
  const normalized = path.resolve(file);
  const prefixes = [opts.basePath ? path.resolve(opts.basePath) : process.cwd(),
    ...opts.includePaths.map((p) => path.resolve(p))];
  for (const prefix of prefixes) {
    if (isPathPrefix(prefix, normalized) && normalized !== prefix) {
      return path.relative(prefix, normalized).split(path.sep).join('/');
    }
  }
  return normalized.split(path.sep).join('/');
}

function pick(obj, dotted) {
  return dotted.split('.').reduce((o, k) => (o == null ? o : o[k]), obj);
}

function runCombined(solc, opts) {
  checkBasePath(opts);
  const sources = {};
  const extraAllowed = [];
  for (const file of opts.files) {
    if (file === '-') {
      sources['<stdin>'] = { content: readStdin() };
      continue;
    }
    if (!fs.existsSync(file)) {
      process.stderr.write(`Error: File not found: "${file}"\n`);
      process.exitCode = 1;
      return;
    }
    if (!fs.statSync(file).isFile()) {
      process.stderr.write(`Error: "${file}" is not a valid file.\n`);
      process.exitCode = 1;
      return;
    }
    sources[cliPathToSourceUnitName(opts, file)] = { content: fs.readFileSync(file, 'utf8') };
    // native solc allows the folders of the input files
    extraAllowed.push(path.dirname(fs.realpathSync(file)));
  }
  for (const remapping of opts.remappings) {
    // ...and the folders of command-line remapping targets
    const target = remapping.slice(remapping.indexOf('=') + 1);
    if (!target) continue;
    const dir = target.endsWith('/') || path.basename(target) === '..' ? target : path.dirname(target);
    extraAllowed.push(dir || '.');
  }
  if (Object.keys(sources).length === 0) {
    process.stderr.write('Error: No input files given. If you wish to use the standard input please specify "-" explicitly.\n');
    process.exitCode = 1;
    return;
  }
  const selection = new Set();
  for (const key of opts.combined) {
    for (const s of COMBINED_SELECTION[key]) selection.add(s);
  }
  const wantAst = opts.combined.includes('ast');
  const optimizer = { enabled: opts.optimize, runs: opts.runs };
  if (opts.noOptimizeYul || opts.yulOptimizations) {
    optimizer.details = {};
    if (opts.noOptimizeYul) optimizer.details.yul = false;
    if (opts.yulOptimizations) optimizer.details.yulDetails = { optimizerSteps: opts.yulOptimizations };
  }
  const settings = {
    optimizer,
    remappings: opts.remappings,
    outputSelection: { '*': { '*': [...selection], '': wantAst ? ['ast'] : [] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.viaIR) settings.viaIR = true;
  if (opts.metadataHash || opts.metadataLiteral) {
    settings.metadata = {};
    if (opts.metadataHash) settings.metadata.bytecodeHash = opts.metadataHash;
    if (opts.metadataLiteral) settings.metadata.useLiteralContent = true;
  }
  if (opts.revertStrings) settings.debug = { revertStrings: opts.revertStrings };
  const input = { language: 'Solidity', sources, settings };
  const callback = makeImportCallback(opts, extraAllowed);
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: callback }));

  let failed = false;
  for (const err of output.errors || []) {
    process.stderr.write((err.formattedMessage || err.message) + '\n');
    if (err.severity === 'error') failed = true;
  }
  if (failed) {
    process.exitCode = 1;
    return;
  }
  const result = { version: nativeVersion(solc) };
  const contracts = {};
  for (const [unit, byName] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(byName)) {
      const entry = {};
      for (const key of opts.combined) {
        if (key === 'ast') continue;
        const value = pick(c, COMBINED_SELECTION[key][0]);
        if (value === undefined || value === null) {
          // native solc prints '' for code and source maps of contracts without code
          if (['bin', 'bin-runtime', 'srcmap', 'srcmap-runtime', 'opcodes'].includes(key)) entry[key] = '';
        } else {
          entry[key] = value;
        }
      }
      contracts[`${unit}:${name}`] = entry;
    }
  }
  if (Object.keys(contracts).length > 0) result.contracts = contracts;
  // source ids are indices into sourceList (sorted source unit names, as in native solc)
  const sourceList = Object.keys(output.sources || {}).sort(
    (a, b) => output.sources[a].id - output.sources[b].id);
  if (wantAst || opts.combined.includes('srcmap') || opts.combined.includes('srcmap-runtime')) {
    result.sourceList = sourceList;
  }
  if (wantAst) {
    result.sources = {};
    for (const unit of sourceList) {
      result.sources[unit] = { AST: output.sources[unit].ast, id: output.sources[unit].id };
    }
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
  // a reader that stops early (`| head`) is not an error, as for native solc (SIGPIPE)
  process.stdout.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
  });
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(e instanceof UsageError ? `${e.message}\n` : `${e.stack || e}\n`);
    process.exitCode = 1;
    return;
  }
  if (opts.mode === 'help') {
    process.stdout.write(helpText());
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
      process.stderr.write('solc-js adapter: give --version, --help, --standard-json or --combined-json\n');
      process.exitCode = 1;
    }
  } catch (e) {
    process.stderr.write(e instanceof UsageError ? `${e.message}\n` : `${e.stack || e}\n`);
    process.exitCode = 1;
  }
}

main();
