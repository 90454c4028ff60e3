// Checks that every import in src/ points down the layers ARCHITECTURE.md describes, type imports
// included, and that no module imports itself back through a cycle. A file's layer comes from the
// first pattern it matches; a file may import files of its own layer or below, never above.
//
//   node scripts/check-layers.mjs

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const LAYERS = [
  // The package entries: adapters see the core only through core/http/index.ts.
  { layer: 9, files: /^src\/(adapters|stores|testing)\//, name: 'entries' },
  { layer: 9, files: /^src\/index\.ts$/, name: 'entries' },
  // The command-line tool, Node-only: it reads the core's own pieces to explain their checks.
  { layer: 9, files: /^src\/cli\//, name: 'the command-line tool' },
  {
    layer: 8,
    files: /^src\/core\/http\/(index|guard|discover)\.ts$/,
    name: 'the adapters’ surface',
  },
  { layer: 7, files: /^src\/core\/(auth|top-level)\.ts$/, name: 'the instance' },
  { layer: 6, files: /^src\/core\/config\//, name: 'config' },
  { layer: 5, files: /^src\/core\/(authenticate|legacy)\.ts$/, name: 'the request flow' },
  { layer: 5, files: /^src\/core\/http\//, name: 'http' },
  { layer: 4, files: /^src\/core\/(verify|resolve|discovery|dpop)\//, name: 'concerns' },
  { layer: 3, files: /^src\/core\/jwks\//, name: 'jwks' },
  { layer: 2, files: /^src\/core\/upstream\//, name: 'upstream' },
  { layer: 1, files: /^src\/core\/[^/]+\.ts$/, name: 'shared' },
  { layer: 0, files: /^src\/core\/lib\//, name: 'lib' },
]
// Concerns of one layer stay apart: verification, resolution, discovery and DPoP never import each other.
const APART = /^src\/core\/(verify|resolve|discovery|dpop)\//

// What an adapter may import of the core.
const ADAPTER_SURFACE = 'src/core/http/index.ts'

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path, out)
    else if (name.endsWith('.ts')) out.push(path)
  }
  return out
}

function layerOf(file) {
  const found = LAYERS.find((entry) => entry.files.test(file))
  if (found === undefined)
    throw new Error(`${file} is in no layer: add it to scripts/check-layers.mjs`)
  return found
}

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const files = walk(join(root, 'src')).map((file) => relative(root, file))
const graph = new Map()
const problems = []

for (const file of files) {
  const source = readFileSync(join(root, file), 'utf8')
  const imports = []
  for (const match of source.matchAll(
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'(\.{1,2}\/[^']+)'/g,
  )) {
    imports.push(relative(root, resolve(root, dirname(file), match[1])).replace(/\.js$/, '.ts'))
  }
  graph.set(file, imports)
  const own = layerOf(file)
  for (const target of imports) {
    const theirs = layerOf(target)
    if (theirs.layer > own.layer) {
      problems.push(`${file} (${own.name}) imports ${target} (${theirs.name}), a layer above it`)
    }
    const concern = (path) => APART.exec(path)?.[1]
    if (concern(file) && concern(target) && concern(file) !== concern(target)) {
      problems.push(`${file} imports ${target}: the concerns stay apart`)
    }
    if (
      file.startsWith('src/adapters/') &&
      target.startsWith('src/core/') &&
      target !== ADAPTER_SURFACE
    ) {
      problems.push(
        `${file} imports ${target}; an adapter imports the core through ${ADAPTER_SURFACE}`,
      )
    }
  }
}

// Cycles, type imports included.
const state = new Map()
const stack = []
function visit(file) {
  state.set(file, 'open')
  stack.push(file)
  for (const target of graph.get(file) ?? []) {
    if (state.get(target) === 'open') {
      problems.push(`import cycle: ${[...stack.slice(stack.indexOf(target)), target].join(' → ')}`)
    } else if (!state.has(target)) visit(target)
  }
  stack.pop()
  state.set(file, 'done')
}
for (const file of files) if (!state.has(file)) visit(file)

if (problems.length > 0) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(`${files.length} modules: every import points down, no cycle`)
