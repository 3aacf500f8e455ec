// The admin client (src/kafka/admin.ts over @platformatic/kafka) against the
// real broker (PLAINTEXT; SASL in kafka-admin-sasl.test.ts).
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createKafkaAdmin, KafkaProtocolError, type AclBinding, type AclFilter, type ConfigEntry, type ConfigResource, type KafkaAdmin } from '../../src/kafka/admin.js'
import { adminError } from '../../src/kafka/errors.js'
import { createLogger } from '../../src/logger.js'
import { bootstrap, createTopic, eventually, uniqueName, waitForTopic } from '../helpers/kafka.js'

function admin (t: TestContext, servers = bootstrap(), requestTimeoutMs = 10000): KafkaAdmin {
  const a = createKafkaAdmin({ bootstrapServers: servers, clientId: 'test', requestTimeoutMs, properties: {}, log: createLogger('silent', 'test') })
  t.after(() => a.close())
  return a
}

function kafkaCode (code: number) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof KafkaProtocolError, `expected a KafkaProtocolError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return true
  }
}

function entry (entries: ConfigEntry[], name: string): ConfigEntry {
  const e = entries.find((x) => x.name === name)
  assert.ok(e !== undefined, `no config ${name}`)
  return e
}

async function brokerId (a: KafkaAdmin): Promise<number> {
  const c = await a.describeCluster()
  return (c.brokers[0] as { id: number }).id
}

/** Polls a resource's config until `check` accepts the entry (KRaft applies changes asynchronously). */
async function configWhere (a: KafkaAdmin, resource: ConfigResource, name: string, check: (e: ConfigEntry | undefined) => boolean, what: string): Promise<ConfigEntry | undefined> {
  return await eventually(async () => {
    const e = (await a.describeConfigs(resource)).find((x) => x.name === name)
    return check(e) ? { e } : undefined
  }, { what }).then((r) => r.e)
}

test('describeCluster reports the cluster id, its brokers and a controller', async (t) => {
  const a = admin(t)
  const c = await a.describeCluster()
  assert.ok(c.clusterId.length > 0)
  assert.ok(c.brokers.length >= 1)
  for (const b of c.brokers) {
    assert.ok(Number.isInteger(b.id) && b.id >= 0)
    assert.ok(b.host.length > 0 && b.port > 0)
  }
  assert.ok(c.brokers.some((b) => b.id === c.controllerId), `controller ${c.controllerId} is one of the brokers`)
})

test('describeConfigs of a topic, a broker id and the cluster default, with sources and synonyms', async (t) => {
  const a = admin(t)
  const topic = uniqueName('proto-desc')
  await createTopic(topic)
  const id = await brokerId(a)

  const topicEntries = await a.describeConfigs({ type: 'TOPIC', name: topic })
  const retention = entry(topicEntries, 'retention.ms')
  assert.equal(retention.source, 'DEFAULT_CONFIG')
  assert.equal(retention.isDefault, true)
  // Synonyms list where the value comes from: here the broker's built-in default.
  assert.deepEqual(entry(topicEntries, 'message.timestamp.type').synonyms, [{ name: 'log.message.timestamp.type', value: 'CreateTime', source: 'DEFAULT_CONFIG' }])

  const brokerEntries = await a.describeConfigs({ type: 'BROKER', name: String(id) })
  assert.ok(brokerEntries.length > 50)
  const nodeId = entry(brokerEntries, 'node.id')
  assert.equal(nodeId.value, String(id))
  assert.equal(nodeId.source, 'STATIC_BROKER_CONFIG')
  assert.equal(nodeId.isReadOnly, true)
  assert.ok(nodeId.synonyms.some((s) => s.source === 'STATIC_BROKER_CONFIG'))

  // The cluster-wide default lists only dynamic default entries.
  const defaults = await a.describeConfigs({ type: 'BROKER', name: '' })
  for (const e of defaults) assert.equal(e.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG', e.name)

  const many = await a.describeConfigsMany([
    { type: 'BROKER', name: String(id) },
    { type: 'TOPIC', name: topic },
    { type: 'TOPIC', name: uniqueName('proto-missing') },
    { type: 'BROKER', name: '' }
  ])
  assert.equal(many.length, 4)
  assert.ok('entries' in many[0]! && many[0].entries.length === brokerEntries.length)
  assert.ok('entries' in many[1]! && many[1].entries.some((e) => e.name === 'retention.ms'))
  assert.ok('error' in many[2]! && many[2].error.code === 3, 'an unknown topic carries UNKNOWN_TOPIC_OR_PARTITION')
  assert.ok('entries' in many[3]!)
  await assert.rejects(a.describeConfigs({ type: 'TOPIC', name: uniqueName('proto-missing') }), kafkaCode(3))
})

test('alterConfigs SET then DELETE a topic config; validateOnly changes nothing', async (t) => {
  const a = admin(t)
  const topic = uniqueName('proto-alter')
  await createTopic(topic)
  const resource = { type: 'TOPIC', name: topic } as const

  await a.alterConfigs(resource, [{ name: 'retention.ms', operation: 'SET', value: '123456' }], true)
  assert.equal(entry(await a.describeConfigs(resource), 'retention.ms').source, 'DEFAULT_CONFIG')
  await assert.rejects(a.alterConfigs(resource, [{ name: 'retention.ms', operation: 'SET', value: 'soon' }], true), kafkaCode(40))

  await a.alterConfigs(resource, [{ name: 'retention.ms', operation: 'SET', value: '123456' }], false)
  const set = await configWhere(a, resource, 'retention.ms', (e) => e?.value === '123456', 'retention.ms set')
  assert.equal(set?.source, 'DYNAMIC_TOPIC_CONFIG')
  assert.equal(set?.isDefault, false)

  await a.alterConfigs(resource, [{ name: 'retention.ms', operation: 'DELETE', value: 'ignored' }], false)
  await configWhere(a, resource, 'retention.ms', (e) => e?.source === 'DEFAULT_CONFIG', 'retention.ms reset')

  const results = await a.alterConfigsMany([
    { resource, ops: [{ name: 'cleanup.policy', operation: 'APPEND', value: 'compact' }] },
    { resource: { type: 'TOPIC', name: uniqueName('proto-missing') }, ops: [{ name: 'retention.ms', operation: 'SET', value: '1' }] }
  ], false)
  assert.equal(results[0]?.error, null)
  assert.equal(results[1]?.error?.code, 3)
  await configWhere(a, resource, 'cleanup.policy', (e) => e?.value === 'delete,compact', 'cleanup.policy appended')
})

test('alterConfigs SET then DELETE on the cluster default and on a broker id', async (t) => {
  const a = admin(t)
  const id = String(await brokerId(a))
  const clusterDefault = { type: 'BROKER', name: '' } as const
  const broker = { type: 'BROKER', name: id } as const

  await a.alterConfigs(clusterDefault, [{ name: 'log.cleaner.backoff.ms', operation: 'SET', value: '15001' }], true)
  assert.equal((await a.describeConfigs(clusterDefault)).find((e) => e.name === 'log.cleaner.backoff.ms'), undefined)

  t.after(() => a.alterConfigs(clusterDefault, [{ name: 'log.cleaner.backoff.ms', operation: 'DELETE', value: null }], false).catch(() => {}))
  await a.alterConfigs(clusterDefault, [{ name: 'log.cleaner.backoff.ms', operation: 'SET', value: '15001' }], false)
  const set = await configWhere(a, clusterDefault, 'log.cleaner.backoff.ms', (e) => e?.value === '15001', 'cluster default set')
  assert.equal(set?.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG')
  const seenByBroker = await configWhere(a, broker, 'log.cleaner.backoff.ms', (e) => e?.value === '15001', 'broker sees the default')
  assert.equal(seenByBroker?.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG')
  await a.alterConfigs(clusterDefault, [{ name: 'log.cleaner.backoff.ms', operation: 'DELETE', value: null }], false)
  await configWhere(a, clusterDefault, 'log.cleaner.backoff.ms', (e) => e === undefined, 'cluster default removed')

  t.after(() => a.alterConfigs(broker, [{ name: 'log.cleaner.backoff.ms', operation: 'DELETE', value: null }], false).catch(() => {}))
  await a.alterConfigs(broker, [{ name: 'log.cleaner.backoff.ms', operation: 'SET', value: '15002' }], false)
  const perBroker = await configWhere(a, broker, 'log.cleaner.backoff.ms', (e) => e?.value === '15002', 'broker config set')
  assert.equal(perBroker?.source, 'DYNAMIC_BROKER_CONFIG')
  await a.alterConfigs(broker, [{ name: 'log.cleaner.backoff.ms', operation: 'DELETE', value: null }], false)
  await configWhere(a, broker, 'log.cleaner.backoff.ms', (e) => e?.source !== 'DYNAMIC_BROKER_CONFIG', 'broker config removed')

  // A read-only static config cannot be changed dynamically: the broker answers INVALID_REQUEST.
  await assert.rejects(a.alterConfigs(broker, [{ name: 'node.id', operation: 'SET', value: '5' }], true), kafkaCode(42))
})

test('createTopic: validateOnly creates nothing; configs and explicit assignments; broker errors become codes', async (t) => {
  const a = admin(t)
  const id = await brokerId(a)
  const name = uniqueName('proto-create')
  const topic = { name, numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '3600000' }] }

  const validated = await a.createTopic(topic, true)
  assert.equal(validated.numPartitions, 3)
  assert.equal(validated.replicationFactor, 1)
  assert.equal(validated.configs.find((c) => c.name === 'retention.ms')?.value, '3600000')
  await assert.rejects(a.describeConfigs({ type: 'TOPIC', name }), kafkaCode(3))

  t.after(() => a.deleteTopic(name).catch(() => {}))
  const created = await a.createTopic(topic, false)
  assert.equal(created.numPartitions, 3)
  assert.equal(created.replicationFactor, 1)
  const retention = created.configs.find((c) => c.name === 'retention.ms')
  assert.deepEqual(retention, { name: 'retention.ms', value: '3600000', isReadOnly: false, isSensitive: false, source: 'DYNAMIC_TOPIC_CONFIG' })
  assert.equal(created.configs.find((c) => c.name === 'cleanup.policy')?.source, 'DEFAULT_CONFIG')
  await waitForTopic(name, 3)

  await assert.rejects(a.createTopic(topic, false), kafkaCode(36))
  await assert.rejects(a.createTopic(topic, true), kafkaCode(36))

  const manual = uniqueName('proto-assign')
  t.after(() => a.deleteTopic(manual).catch(() => {}))
  const assigned = await a.createTopic({
    name: manual, numPartitions: -1, replicationFactor: -1, assignments: [{ partition: 0, brokers: [id] }, { partition: 1, brokers: [id] }], configs: []
  }, false)
  assert.equal(assigned.numPartitions, 2)
  assert.equal(assigned.replicationFactor, 1)
  await waitForTopic(manual, 2)

  const tooMany = uniqueName('proto-rf')
  await assert.rejects(a.createTopic({ ...topic, name: tooMany, replicationFactor: 3 }, false), (err: unknown) => {
    kafkaCode(38)(err)
    assert.equal(adminError(err).key, 'kafkaBadRequest')
    return true
  })
  await assert.rejects(a.createTopic({ ...topic, name: uniqueName('proto-cfg'), configs: [{ name: 'retention.ms', value: 'x' }] }, true), kafkaCode(40))
  await assert.rejects(a.createTopic({ ...topic, name: 'bad/name' }, true), kafkaCode(17))
})

test('createPartitions grows a topic, validateOnly does not, shrinking is refused', async (t) => {
  const a = admin(t)
  const name = uniqueName('proto-parts')
  await createTopic(name, 2)
  t.after(() => a.deleteTopic(name).catch(() => {}))

  await a.createPartitions(name, 5, true)
  await a.createPartitions(name, 4, false)
  await waitForTopic(name, 4)
  await assert.rejects(a.createPartitions(name, 3, false), kafkaCode(37))
  await assert.rejects(a.createPartitions(name, 4, false), kafkaCode(37))
  await assert.rejects(a.createPartitions(uniqueName('proto-missing'), 4, false), kafkaCode(3))
})

test('deleteTopic removes a topic; a missing topic gives UNKNOWN_TOPIC_OR_PARTITION', async (t) => {
  const a = admin(t)
  const name = uniqueName('proto-delete')
  await createTopic(name)
  await a.deleteTopic(name)
  await eventually(async () => await a.describeConfigs({ type: 'TOPIC', name }).then(() => undefined, (err: unknown) => err instanceof KafkaProtocolError && err.code === 3 ? true : undefined), { what: 'topic gone' })
  await assert.rejects(a.deleteTopic(name), (err: unknown) => {
    kafkaCode(3)(err)
    assert.equal(adminError(err).key, 'unknownTopicOrPartition')
    return true
  })
})

test('listPartitionReassignments is empty on a quiet cluster, for all and for named partitions', async (t) => {
  const a = admin(t)
  const name = uniqueName('proto-reassign')
  await createTopic(name, 2)
  assert.deepEqual((await a.listPartitionReassignments(null)).filter((r) => r.topic === name), [])
  assert.deepEqual(await a.listPartitionReassignments([{ topic: name, partitions: [0, 1] }]), [])
})

test('createAcls, describeAcls and deleteAcls round trip', async (t) => {
  const a = admin(t)
  const resourceName = uniqueName('proto-acl')
  const bindings: AclBinding[] = [
    { resourceType: 'TOPIC', resourceName, patternType: 'LITERAL', principal: 'User:alice', host: '*', operation: 'READ', permission: 'ALLOW' },
    { resourceType: 'TOPIC', resourceName, patternType: 'PREFIXED', principal: 'User:bob', host: '10.0.0.1', operation: 'WRITE', permission: 'DENY' },
    { resourceType: 'GROUP', resourceName, patternType: 'LITERAL', principal: 'User:alice', host: '*', operation: 'DESCRIBE', permission: 'ALLOW' }
  ]
  const everything: AclFilter = { resourceType: 'ANY', resourceName, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permission: 'ANY' }
  t.after(() => a.deleteAcls([everything]).catch(() => {}))

  assert.deepEqual(await a.createAcls(bindings), [null, null, null])
  const key = (b: AclBinding): string => JSON.stringify([b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permission])
  const described = await eventually(async () => {
    const acls = await a.describeAcls(everything)
    return acls.length === 3 ? acls : undefined
  }, { what: 'three ACLs described' })
  assert.deepEqual(described.map(key).sort(), bindings.map(key).sort())

  const topicsOfAlice = await a.describeAcls({ ...everything, resourceType: 'TOPIC', principal: 'User:alice' })
  assert.deepEqual(topicsOfAlice.map(key), [key(bindings[0]!)])

  const invalid = await a.createAcls([{ ...bindings[0]!, resourceType: 'ANY' }])
  assert.ok(invalid[0] instanceof KafkaProtocolError)

  const [deleted] = await a.deleteAcls([{ ...everything, resourceType: 'TOPIC' }])
  assert.equal(deleted?.error, null)
  assert.deepEqual(deleted?.deleted.map(key).sort(), [key(bindings[0]!), key(bindings[1]!)].sort())
  const left = await eventually(async () => {
    const acls = await a.describeAcls(everything)
    return acls.length === 1 ? acls : undefined
  }, { what: 'topic ACLs gone' })
  assert.deepEqual(left.map(key), [key(bindings[2]!)])
})

test('an unreachable bootstrap server rejects with -195 within the timeout', async (t) => {
  const a = admin(t, '127.0.0.1:1', 3000)
  const started = Date.now()
  await assert.rejects(a.describeCluster(), (err: any) => {
    assert.equal(err.code, -195)
    assert.equal(err.isRetriable, true)
    assert.equal(adminError(err).key, 'clusterUnreachable')
    return true
  })
  assert.ok(Date.now() - started < 3000)
})

test('concurrent calls on one client succeed; close() fails later calls with -195', async (t) => {
  const a = admin(t)
  const id = String(await brokerId(a))
  const results = await Promise.all(Array.from({ length: 20 }, (_v, i) => i % 2 === 0 ? a.describeCluster() : a.describeConfigs({ type: 'BROKER', name: id })))
  assert.equal(results.length, 20)
  await a.close()
  await assert.rejects(a.describeCluster(), (err: any) => err.code === -195)
})
