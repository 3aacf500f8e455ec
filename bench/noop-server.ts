// The bare node:http baseline for the single-record scenario: the same
// cluster of worker processes as the proxy, each answering every request with
// a small JSON body after reading the request body, and nothing else.
// Usage: node bench/noop-server.ts <port> <workers>   (prints "listening <port>")
import cluster from 'node:cluster'
import http from 'node:http'

const [portArg = '0', workersArg = '2'] = process.argv.slice(2)
const BODY = '{"offsets":[{"partition":0,"offset":0,"error_code":null,"error":null}]}'

if (cluster.isPrimary) {
  let listening = 0
  for (let i = 0; i < Number(workersArg); i++) {
    cluster.fork().on('message', (port: number) => {
      if (++listening === Number(workersArg)) process.stdout.write(`listening ${port}\n`)
    })
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM')
    process.exit(0)
  })
} else {
  const server = http.createServer((req, res) => {
    req.on('data', () => {})
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/vnd.kafka.v2+json', 'content-length': Buffer.byteLength(BODY) })
      res.end(BODY)
    })
  })
  server.keepAliveTimeout = 65000
  server.listen(Number(portArg), '127.0.0.1', () => {
    const address = server.address()
    process.send?.(typeof address === 'object' && address !== null ? address.port : 0)
  })
}
