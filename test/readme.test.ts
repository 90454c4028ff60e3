import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The README's code blocks that open with a file name comment (`// server.ts`) are whole programs
// a newcomer copies as they are: they must compile against the package, with nothing undefined.
// Blocks with the same name are alternatives (one server in three frameworks); each is checked.

const root = join(import.meta.dirname, '..')
const FILE_COMMENT = /^\/\/ ([\w.-]+)\.ts\n/

const snippets = [
  ...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g),
]
  .map((match) => match[1] as string)
  .filter((code) => FILE_COMMENT.test(code))
  .map((code, index) => {
    const base = FILE_COMMENT.exec(code)?.[1] as string
    // auth.ts is imported by the others as './auth.js', so it keeps its name.
    return {
      code,
      label: `${base}.ts (snippet ${index + 1})`,
      file: base === 'auth' ? 'auth.ts' : `${base}-${index + 1}.ts`,
    }
  })

const dir = mkdtempSync(join(root, 'test', '.readme-'))
const errors = new Map<string, string[]>()

beforeAll(() => {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile)
  const options = ts.convertCompilerOptionsFromJson(config.compilerOptions, root).options
  const paths = snippets.map(({ file, code }) => {
    writeFileSync(join(dir, file), code)
    return join(dir, file)
  })
  const program = ts.createProgram(paths, {
    ...options,
    noUnusedLocals: false,
    noUnusedParameters: false,
    // The NestJS snippet uses legacy decorators, as Nest apps compile; no other snippet has any.
    experimentalDecorators: true,
  })
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file?.fileName
    if (file === undefined || !paths.includes(file)) continue
    const list = errors.get(file) ?? []
    list.push(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    errors.set(file, list)
  }
}, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the README', () => {
  it('has whole-program snippets to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5)
  })

  it.each(snippets.map((snippet) => [snippet.label, snippet.file]))(
    '%s compiles as written',
    (_label, file) => {
      expect(errors.get(join(dir, file)) ?? []).toEqual([])
    },
  )
})
