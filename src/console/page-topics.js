// Topics: the list with a filter, creating a topic, deleting one (after a
// second click on the row's own confirmation, not a browser dialog).
import { clusterPath, del, list, post } from './api.js'
import { el, errorText, field, link, notice, replace, row, section, table } from './dom.js'
import { parsePairs } from './records.js'

export async function render (view, _params, query) {
  const base = await clusterPath('topics')
  const status = el('div', { class: 'status' })
  const filter = el('input', { type: 'search', name: 'filter', placeholder: 'Filter by name', value: query.get('filter') ?? '', 'aria-label': 'Filter topics' })
  const showInternal = el('input', { type: 'checkbox', name: 'internal' })
  const body = el('div')
  let topics = []

  const draw = () => {
    const needle = filter.value.trim()
    const shown = topics
      .filter((t) => showInternal.checked || !t.is_internal)
      .filter((t) => needle === '' || t.topic_name.includes(needle))
      .sort((a, b) => a.topic_name.localeCompare(b.topic_name))
    replace(body,
      el('p', { class: 'count' }, `${shown.length} of ${topics.length} topics`),
      table(['Topic', 'Partitions', 'Replication', 'Internal', ''], shown.map(topicRow), { 'data-testid': 'topics' })
    )
  }

  const load = async () => {
    topics = await list(base)
    draw()
  }

  const topicRow = (t) => {
    const actions = el('td', { class: 'actions' })
    const ask = () => replace(actions,
      el('span', {}, `Delete ${t.topic_name}? `),
      el('button', { type: 'button', class: 'danger', 'data-action': 'confirm-delete', onclick: () => remove(t.topic_name) }, 'Delete'),
      ' ',
      el('button', { type: 'button', onclick: () => replace(actions, deleteButton) }, 'Cancel')
    )
    const deleteButton = el('button', { type: 'button', 'data-action': 'delete', onclick: ask }, 'Delete…')
    if (!t.is_internal) actions.append(deleteButton)
    const tr = row([link(['topics', t.topic_name], t.topic_name), String(t.partitions_count), String(t.replication_factor), t.is_internal ? 'yes' : '', actions])
    tr.dataset.topic = t.topic_name
    return tr
  }

  const remove = async (name) => {
    try {
      await del(`${base}/${encodeURIComponent(name)}`)
      replace(status, notice('ok', `Deleted topic ${name}.`))
      // Listed from the proxy's metadata, which may still name the topic for a moment.
      topics = topics.filter((t) => t.topic_name !== name)
      draw()
    } catch (err) {
      replace(status, notice('error', `Deleting ${name} failed: ${errorText(err)}`))
    }
  }

  filter.addEventListener('input', draw)
  showInternal.addEventListener('change', draw)

  view.replaceChildren(
    el('h1', {}, 'Topics'),
    status,
    createForm(base, status, async (created) => {
      await load()
      // The proxy's metadata may not list a topic this new yet.
      if (!topics.some((t) => t.topic_name === created.topic_name)) {
        topics.push(created)
        draw()
      }
    }),
    section('All topics', el('div', { class: 'toolbar' }, filter, el('label', { class: 'inline' }, showInternal, ' show internal topics')), body)
  )
  await load()
}

function createForm (base, status, reload) {
  const name = el('input', { name: 'topic_name', required: true, pattern: '[a-zA-Z0-9._\\-]+', maxlength: 249, autocomplete: 'off' })
  const partitions = el('input', { name: 'partitions_count', type: 'number', min: 1, placeholder: 'broker default' })
  const replication = el('input', { name: 'replication_factor', type: 'number', min: 1, placeholder: 'broker default' })
  const configs = el('textarea', { name: 'configs', rows: 2, placeholder: 'cleanup.policy=compact\nretention.ms=86400000' })
  const submit = el('button', { type: 'submit' }, 'Create topic')
  const form = el('form', { class: 'card', 'data-testid': 'create-topic' },
    el('h2', {}, 'Create a topic'),
    el('div', { class: 'row' },
      field('Name', name),
      field('Partitions', partitions),
      field('Replication factor', replication)
    ),
    field('Configs', configs, 'One name=value per line'),
    submit
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const body = { topic_name: name.value.trim() }
    if (partitions.value !== '') body.partitions_count = Number(partitions.value)
    if (replication.value !== '') body.replication_factor = Number(replication.value)
    submit.disabled = true
    try {
      const pairs = parsePairs(configs.value)
      if (pairs.length > 0) body.configs = pairs
      const created = await post(base, body)
      replace(status, notice('ok', `Created topic ${created.topic_name} with ${created.partitions_count} partition(s).`))
      form.reset()
      await reload(created)
    } catch (err) {
      replace(status, notice('error', `Creating ${body.topic_name} failed: ${errorText(err)}`))
    } finally {
      submit.disabled = false
    }
  })
  return form
}
