// The live tail page: a topic's records as they arrive, filtered by key and
// headers in the proxy, newest first, the last MAX_ROWS of them.
import { clusterPath, list } from './api.js'
import { el, errorText, field, notice, replace } from './dom.js'
import { dataCell, headersText, parsePairs } from './records.js'
import { startTail } from './tail.js'

const MAX_ROWS = 500
export const FORMATS = ['STRING', 'JSON', 'BINARY', 'AVRO', 'JSONSCHEMA', 'PROTOBUF']

export async function render (view, _params, query) {
  const topic = el('input', { name: 'topic', required: true, list: 'tail-topics', value: query.get('topic') ?? '', autocomplete: 'off' })
  const from = el('select', { name: 'from' }, el('option', { value: 'latest' }, 'new records (latest)'), el('option', { value: 'earliest' }, 'the beginning (earliest)'))
  const format = el('select', { name: 'format' }, FORMATS.map((f) => el('option', { value: f }, f.toLowerCase())))
  const key = el('input', { name: 'key', placeholder: 'exact key', autocomplete: 'off' })
  const headers = el('textarea', { name: 'headers', rows: 1, placeholder: 'name=value' })
  const start = el('button', { type: 'submit' }, 'Start')
  const stopButton = el('button', { type: 'button', disabled: true }, 'Stop')
  const status = el('div', { class: 'status', 'data-testid': 'tail-status' })
  const mode = el('span', { class: 'badge', 'data-testid': 'tail-mode' })
  const counter = el('span', { class: 'count' })
  const rows = el('tbody', { 'data-testid': 'tail-records' })
  const topics = el('datalist', { id: 'tail-topics' })
  if (query.get('from') === 'earliest') from.value = 'earliest'
  let stop = null
  let received = 0

  const halt = () => {
    stop?.()
    stop = null
    start.disabled = false
    stopButton.disabled = true
  }

  const form = el('form', { class: 'card', 'data-testid': 'tail-form' },
    el('div', { class: 'row' },
      field('Topic', topic),
      field('From', from),
      field('Format', format),
      field('Key filter', key),
      field('Header filters', headers, 'name=value per line, all must match')
    ),
    start, ' ', stopButton, ' ', mode, ' ', counter
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    halt()
    let headerFilters
    try {
      headerFilters = parsePairs(headers.value)
    } catch (err) {
      replace(status, notice('error', errorText(err)))
      return
    }
    rows.replaceChildren()
    received = 0
    counter.textContent = ''
    replace(status, notice('info', `connecting to ${topic.value}…`))
    start.disabled = true
    stopButton.disabled = false
    stop = startTail({ topic: topic.value.trim(), from: from.value, format: format.value, key: key.value, headers: headerFilters }, {
      record: (r) => {
        received++
        counter.textContent = `${received} record(s)`
        rows.prepend(recordRow(r))
        while (rows.childElementCount > MAX_ROWS) rows.lastElementChild.remove()
      },
      status: (kind, text) => {
        replace(status, notice(kind, text))
        if (kind === 'error') halt()
      },
      mode: (m) => { mode.textContent = m === 'sse' ? 'event stream' : 'polling' }
    })
  })
  stopButton.addEventListener('click', () => {
    halt()
    replace(status, notice('info', 'stopped'))
  })

  view.replaceChildren(
    el('h1', {}, 'Live tail'),
    form,
    status,
    topics,
    el('table', { class: 'records' },
      el('thead', {}, el('tr', {}, ['Partition', 'Offset', 'Timestamp', 'Key', 'Value', 'Headers'].map((c) => el('th', {}, c)))),
      rows
    )
  )
  clusterPath('topics').then(list).then((all) => {
    replace(topics, all.filter((t) => !t.is_internal).map((t) => el('option', { value: t.topic_name })))
  }, () => {})
  if (query.get('start') === '1' && topic.value !== '') form.requestSubmit()
  return halt
}

function recordRow (r) {
  return el('tr', { 'data-offset': String(r.offset), 'data-partition': String(r.partition) },
    el('td', { class: 'num' }, String(r.partition)),
    el('td', { class: 'num' }, String(r.offset)),
    el('td', {}, r.timestamp ?? ''),
    dataCell(r.key),
    dataCell(r.value),
    el('td', { class: 'headers' }, headersText(r.headers))
  )
}
