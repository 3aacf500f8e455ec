// One topic: its partitions with leaders, replicas and offsets, and its configs.
import { clusterPath, get, list } from './api.js'
import { el, route, section, table } from './dom.js'

/** Partitions whose replicas and offsets are fetched (one request each); beyond this the table shows ids and leaders. */
const DETAILED_PARTITIONS = 64

function lastSegment (related) {
  if (typeof related !== 'string') return ''
  return decodeURIComponent(new URL(related).pathname.split('/').pop() ?? '')
}

export async function render (view, params) {
  const name = params[0]
  const base = await clusterPath('topics', name)
  const [topic, partitions, configs] = await Promise.all([get(base), list(`${base}/partitions`), list(`${base}/configs`)])
  const detailed = partitions.slice(0, DETAILED_PARTITIONS)
  const details = await Promise.all(detailed.map(async (p) => {
    const [offsets, replicas] = await Promise.all([
      get(`${base}/partitions/${p.partition_id}/offset`).catch(() => null),
      list(`${base}/partitions/${p.partition_id}/replicas`).catch(() => null)
    ])
    return { offsets, replicas }
  }))
  const rows = partitions.map((p, i) => {
    const d = details[i]
    const o = d?.offsets
    const replicas = d?.replicas
    return [
      String(p.partition_id),
      lastSegment(p.leader?.related),
      replicas === null || replicas === undefined ? '' : replicas.map((r) => `${r.broker_id}${r.is_in_sync ? '' : ' (out of sync)'}`).join(', '),
      o === null || o === undefined ? '' : String(o.earliest_offset),
      o === null || o === undefined ? '' : String(o.latest_offset),
      o === null || o === undefined ? '' : String(o.latest_offset - o.earliest_offset)
    ]
  })
  const total = details.reduce((n, d) => n + (d.offsets === null ? 0 : d.offsets.latest_offset - d.offsets.earliest_offset), 0)
  view.replaceChildren(
    el('h1', {}, 'Topic ', el('code', {}, topic.topic_name)),
    el('p', { class: 'toolbar' },
      el('a', { href: route(['tail'], { topic: topic.topic_name }) }, 'Live tail'), ' ',
      el('a', { href: route(['produce'], { topic: topic.topic_name }) }, 'Produce')
    ),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Partitions'), el('dd', {}, String(topic.partitions_count)),
      el('dt', {}, 'Replication factor'), el('dd', {}, String(topic.replication_factor)),
      el('dt', {}, 'Internal'), el('dd', {}, topic.is_internal ? 'yes' : 'no'),
      el('dt', {}, 'Records held'), el('dd', {}, `${total}${partitions.length > DETAILED_PARTITIONS ? ` (first ${DETAILED_PARTITIONS} partitions)` : ''}`)
    ),
    section('Partitions', table(['Partition', 'Leader', 'Replicas', 'Earliest offset', 'Latest offset', 'Records'], rows, { 'data-testid': 'partitions' })),
    section('Configs', table(
      ['Name', 'Value', 'Source', ''],
      configs.sort((a, b) => a.name.localeCompare(b.name)).map((c) => [
        c.name,
        c.is_sensitive ? '(sensitive)' : (c.value ?? 'null'),
        c.source ?? '',
        [c.is_default ? 'default' : '', c.is_read_only ? 'read-only' : ''].filter((s) => s !== '').join(', ')
      ]),
      { 'data-testid': 'configs' }
    ))
  )
}
