// A Server-Sent Events reader over fetch(): EventSource cannot send an
// Authorization header, which the console needs once auth is on. Parsing
// follows WHATWG HTML §9.2.6 ("Interpreting an event stream"): lines end in
// CRLF, LF or CR; a blank line dispatches; `data:` lines join with "\n"; an
// `id:` without data still sets the last event id; `:` starts a comment.

export class SseParser {
  /**
   * `onEvent({ type, data, id })` for every dispatched event;
   * `onId(id)` whenever the last event id changes (with or without data);
   * `onRetry(ms)` for a `retry:` field.
   */
  constructor ({ onEvent, onId = () => {}, onRetry = () => {} }) {
    this.onEvent = onEvent
    this.onId = onId
    this.onRetry = onRetry
    this.buffer = ''
    this.type = ''
    this.data = []
    this.lastId = ''
    this.pendingCr = false
  }

  /** Feeds decoded text; may hold a partial line until the next chunk. */
  push (text) {
    let s = this.buffer + text
    // A CR at the end of the previous chunk already ended its line; a LF now is that CRLF's second half.
    if (this.pendingCr && s.startsWith('\n')) s = s.slice(1)
    this.pendingCr = false
    let start = 0
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      this.line(s.slice(start, i))
      if (c === 13) {
        if (i + 1 === s.length) this.pendingCr = true
        else if (s.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
    }
    this.buffer = s.slice(start)
  }

  line (line) {
    if (line === '') return this.dispatch()
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const name = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (name) {
      case 'event': this.type = value; break
      case 'data': this.data.push(value); break
      case 'id':
        if (!value.includes('\0')) {
          this.lastId = value
          this.onId(value)
        }
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.onRetry(Number(value))
        break
    }
  }

  dispatch () {
    const type = this.type === '' ? 'message' : this.type
    const data = this.data
    this.type = ''
    this.data = []
    if (data.length === 0) return
    this.onEvent({ type, data: data.join('\n'), id: this.lastId })
  }
}

/** Reads `response`'s body through `parser` until it ends or `signal` aborts. */
export async function readStream (response, parser, signal) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  const cancel = () => { reader.cancel().catch(() => {}) }
  signal?.addEventListener('abort', cancel, { once: true })
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      parser.push(value)
    }
  } finally {
    signal?.removeEventListener('abort', cancel)
  }
}
