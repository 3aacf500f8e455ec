// The cluster: its id, controller and brokers, and the proxy's readiness.
import { clusterId, clusterPath, get, list, path } from './api.js'
import { el, link, section, table } from './dom.js'

/** The last path segment of a v3 `related` link (the broker id of `controller`). */
function lastSegment (related) {
  if (typeof related !== 'string') return ''
  return decodeURIComponent(new URL(related).pathname.split('/').pop() ?? '')
}

export async function render (view) {
  const id = await clusterId()
  const base = await clusterPath()
  const [cluster, brokers, topics, groups, ready] = await Promise.all([
    get(base),
    list(`${base}/brokers`),
    list(`${base}/topics`),
    list(`${base}/consumer-groups`).catch(() => null),
    get(path('health', 'ready')).then((r) => r.status, (err) => err.body?.status ?? err.message)
  ])
  const controller = lastSegment(cluster.controller?.related)
  const userTopics = topics.filter((t) => !t.is_internal).length
  view.replaceChildren(
    el('h1', {}, 'Cluster'),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Cluster id'), el('dd', { 'data-testid': 'cluster-id' }, id),
      el('dt', {}, 'Controller'), el('dd', {}, controller === '' ? 'unknown' : `broker ${controller}`),
      el('dt', {}, 'Brokers'), el('dd', {}, String(brokers.length)),
      el('dt', {}, 'Topics'), el('dd', {}, link(['topics'], `${userTopics} (+${topics.length - userTopics} internal)`)),
      el('dt', {}, 'Consumer groups'), el('dd', {}, groups === null ? 'not visible' : link(['groups'], String(groups.length))),
      el('dt', {}, 'Proxy readiness'), el('dd', { class: ready === 'ready' ? 'ok' : 'bad' }, ready)
    ),
    section('Brokers', table(
      ['Broker', 'Host', 'Port', 'Rack', 'Role'],
      brokers.map((b) => [String(b.broker_id), b.host ?? '', String(b.port ?? ''), b.rack ?? '', String(b.broker_id) === controller ? 'controller' : '']),
      { 'data-testid': 'brokers' }
    ))
  )
}
