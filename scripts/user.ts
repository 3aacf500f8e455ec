// Creates entries of the Basic users file ([auth.basic] users_file):
//   npm run user -- add NAME [--file PATH]
// reads the password from stdin (one line; typed at a terminal it is not
// echoed), hashes it with scrypt and prints `NAME:<hash>`, or with --file
// writes it into PATH (replacing NAME's line if there is one). The password
// never appears in argv, so it is not in the shell history or `ps`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { hashPassword } from '../src/security/passwords.js'

async function readPassword (): Promise<string> {
  const tty = process.stdin.isTTY === true
  if (tty) {
    process.stderr.write('password: ')
    process.stdin.setRawMode(true)
  }
  let line = ''
  if (tty) {
    line = await new Promise<string>((resolve) => {
      let typed = ''
      process.stdin.on('data', (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') { resolve(typed); return }
          if (ch === '\u0003') process.exit(130)
          typed = ch === '\u007f' ? typed.slice(0, -1) : typed + ch
        }
      })
    })
    process.stdin.setRawMode(false)
    process.stderr.write('\n')
  } else {
    const rl = createInterface({ input: process.stdin })
    line = await new Promise<string>((resolve) => {
      rl.once('line', resolve)
      rl.once('close', () => resolve(''))
    })
    rl.close()
  }
  process.stdin.pause()
  return line
}

async function main (argv: string[]): Promise<number> {
  const [command, name] = argv
  const fileAt = argv.indexOf('--file')
  const file = fileAt === -1 ? null : argv[fileAt + 1]
  if (command !== 'add' || name === undefined || name === '' || name.includes(':') || file === undefined) {
    process.stderr.write('usage: npm run user -- add NAME [--file PATH]   (the password is read from stdin)\n')
    return 2
  }
  const password = await readPassword()
  if (password === '') {
    process.stderr.write('empty password refused\n')
    return 1
  }
  const entry = `${name}:${await hashPassword(password)}`
  if (file === null) {
    process.stdout.write(entry + '\n')
    return 0
  }
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith(`${name}:`)) : []
  writeFileSync(file, [...lines, entry].join('\n') + '\n', { mode: 0o600 })
  process.stderr.write(`${name} written to ${file}\n`)
  return 0
}

process.exitCode = await main(process.argv.slice(2))
