// The produce form: one record through the v3 produce endpoint
// (POST /v3/clusters/{cluster_id}/topics/{topic}/records, docs/v3-produce.md),
// key and value each in a format of its own, headers as UTF-8 text.
import { clusterPath, list, produce } from './api.js'
import { el, errorText, field, notice, replace } from './dom.js'
import { base64Utf8, parsePairs } from './records.js'

const TYPES = ['STRING', 'JSON', 'BINARY', 'AVRO', 'JSONSCHEMA', 'PROTOBUF']
const SCHEMA_TYPES = new Set(['AVRO', 'JSONSCHEMA', 'PROTOBUF'])

function typeSelect (name, initial) {
  const select = el('select', { name }, TYPES.map((t) => el('option', { value: t }, t.toLowerCase())))
  select.value = initial
  return select
}

/** A Data object for the record: `text` in `type`, with an optional schema id; null text: omitted. */
export function dataOf (type, text, schemaId, side) {
  if (text === '' && type !== 'STRING') return undefined
  const data = {}
  // A schema type is not named: the schema (by id, or the subject's latest
  // version by the subject name strategy) says which format it is.
  if (!SCHEMA_TYPES.has(type)) data.type = type
  else if (schemaId !== '') data.schema_id = Number(schemaId)
  if (type === 'STRING') data.data = text
  else if (type === 'BINARY') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error(`${side}: binary data must be base64`)
    data.data = text
  } else {
    try {
      data.data = JSON.parse(text)
    } catch (err) {
      throw new Error(`${side}: not JSON (${err.message})`)
    }
  }
  return data
}

export async function render (view, _params, query) {
  const topic = el('input', { name: 'topic', required: true, list: 'produce-topics', value: query.get('topic') ?? '', autocomplete: 'off' })
  const partition = el('input', { name: 'partition', type: 'number', min: 0, placeholder: 'partitioner' })
  const keyType = typeSelect('key_type', 'STRING')
  const key = el('input', { name: 'key', autocomplete: 'off', placeholder: 'no key' })
  const keySchema = el('input', { name: 'key_schema_id', type: 'number', min: 1, placeholder: 'latest' })
  const valueType = typeSelect('value_type', 'STRING')
  const value = el('textarea', { name: 'value', rows: 5 })
  const valueSchema = el('input', { name: 'value_schema_id', type: 'number', min: 1, placeholder: 'latest' })
  const headers = el('textarea', { name: 'headers', rows: 2, placeholder: 'trace-id=abc123' })
  const submit = el('button', { type: 'submit' }, 'Produce')
  const status = el('div', { class: 'status', 'data-testid': 'produce-status' })
  const history = el('ol', { class: 'history', reversed: true })
  const topics = el('datalist', { id: 'produce-topics' })
  // Key and value keep an empty string apart from no key: an empty STRING value is a record with "".
  const keySet = () => key.value !== ''

  const form = el('form', { class: 'card', 'data-testid': 'produce-form' },
    el('div', { class: 'row' }, field('Topic', topic), field('Partition', partition)),
    el('div', { class: 'row' }, field('Key format', keyType), field('Key', key), field('Key schema id', keySchema)),
    el('div', { class: 'row' }, field('Value format', valueType), field('Value schema id', valueSchema)),
    field('Value', value, 'string: as typed; json and schema formats: JSON; binary: base64'),
    field('Headers', headers, 'name=value per line, sent as UTF-8'),
    submit
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    submit.disabled = true
    try {
      const record = {}
      if (partition.value !== '') record.partition_id = Number(partition.value)
      if (keySet()) record.key = dataOf(keyType.value, key.value, keySchema.value, 'key')
      const v = dataOf(valueType.value, value.value, valueSchema.value, 'value')
      if (v !== undefined) record.value = v
      const hs = parsePairs(headers.value)
      if (hs.length > 0) record.headers = hs.map((h) => ({ name: h.name, value: base64Utf8(h.value) }))
      const result = await produce(topic.value.trim(), record)
      const text = `Produced to ${result.topic_name} partition ${result.partition_id} at offset ${result.offset}.`
      replace(status, notice('ok', text))
      history.prepend(el('li', {}, `${new Date().toLocaleTimeString()}: ${text}`))
    } catch (err) {
      replace(status, notice('error', `Produce failed: ${errorText(err)}`))
    } finally {
      submit.disabled = false
    }
  })

  view.replaceChildren(el('h1', {}, 'Produce'), form, status, topics, history)
  clusterPath('topics').then(list).then((all) => {
    replace(topics, all.filter((t) => !t.is_internal).map((t) => el('option', { value: t.topic_name })))
  }, () => {})
}
