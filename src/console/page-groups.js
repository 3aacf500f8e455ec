// Consumer groups: the list, and one group's members, assignments and lag.
import { ApiError, clusterPath, get, list } from './api.js'
import { el, link, section, table } from './dom.js'

export async function render (view, _params, query) {
  const groups = (await list(await clusterPath('consumer-groups'))).sort((a, b) => a.consumer_group_id.localeCompare(b.consumer_group_id))
  const filter = el('input', { type: 'search', name: 'filter', placeholder: 'Filter by id', value: query.get('filter') ?? '', 'aria-label': 'Filter groups' })
  const body = el('div')
  const draw = () => {
    const needle = filter.value.trim()
    const shown = groups.filter((g) => needle === '' || g.consumer_group_id.includes(needle))
    body.replaceChildren(
      el('p', { class: 'count' }, `${shown.length} of ${groups.length} groups`),
      table(['Group', 'State', 'Type', 'Assignor', 'Simple'], shown.map((g) => [
        link(['groups', g.consumer_group_id], g.consumer_group_id),
        g.state ?? '',
        g.type ?? '',
        g.partition_assignor ?? '',
        g.is_simple ? 'yes' : ''
      ]), { 'data-testid': 'groups' })
    )
  }
  filter.addEventListener('input', draw)
  view.replaceChildren(el('h1', {}, 'Consumer groups'), el('div', { class: 'toolbar' }, filter), body)
  draw()
}

export async function renderGroup (view, params) {
  const id = params[0]
  const base = await clusterPath('consumer-groups', id)
  const [group, members, lags, summary] = await Promise.all([
    get(base),
    list(`${base}/consumers`),
    list(`${base}/lags`).catch(notFoundAs([])),
    get(`${base}/lag-summary`).catch(notFoundAs(null))
  ])
  const assignments = await Promise.all(members.map((m) => list(`${base}/consumers/${encodeURIComponent(m.consumer_id)}/assignments`).catch(() => [])))
  view.replaceChildren(
    el('h1', {}, 'Consumer group ', el('code', {}, group.consumer_group_id)),
    el('dl', { class: 'facts' },
      el('dt', {}, 'State'), el('dd', {}, group.state ?? ''),
      el('dt', {}, 'Type'), el('dd', {}, group.type ?? ''),
      el('dt', {}, 'Assignor'), el('dd', {}, group.partition_assignor || '—'),
      el('dt', {}, 'Members'), el('dd', {}, String(members.length)),
      el('dt', {}, 'Total lag'), el('dd', { 'data-testid': 'total-lag' }, summary === null ? 'no committed offsets' : String(summary.total_lag)),
      el('dt', {}, 'Largest lag'), el('dd', {}, summary === null ? '—' : `${summary.max_lag} (${summary.max_lag_topic_name} partition ${summary.max_lag_partition_id})`)
    ),
    section('Members', table(['Consumer', 'Client', 'Instance', 'Assigned partitions'], members.map((m, i) => [
      m.consumer_id,
      m.client_id ?? '',
      m.instance_id ?? '',
      assignments[i].map((a) => `${a.topic_name}-${a.partition_id}`).join(', ')
    ]), { 'data-testid': 'members' })),
    section('Lag by partition', table(['Topic', 'Partition', 'Committed', 'Log end', 'Lag', 'Consumer'], lags
      .sort((a, b) => a.topic_name.localeCompare(b.topic_name) || a.partition_id - b.partition_id)
      .map((l) => [
        link(['topics', l.topic_name], l.topic_name),
        String(l.partition_id),
        String(l.current_offset),
        String(l.log_end_offset),
        el('span', { class: l.lag > 0 ? 'lag' : '' }, String(l.lag)),
        l.consumer_id || '—'
      ]), { 'data-testid': 'lags' }))
  )
}

// A group without committed offsets has no lags: its lag resources are 404.
function notFoundAs (value) {
  return (err) => {
    if (err instanceof ApiError && err.status === 404) return value
    throw err
  }
}
