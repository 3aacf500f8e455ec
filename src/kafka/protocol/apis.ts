// Request and response bodies of the Kafka APIs this client speaks, written
// from the message definitions in apache/kafka
// clients/src/main/resources/common/message/*.json. Only flexible versions
// (KIP-482) are implemented, except SaslHandshake (never flexible) and the
// ApiVersions error fallback (v0 body). Field names follow the JSON files.
import { Reader, Writer } from './codec.js'

export interface ApiSpec<Req, Res> {
  key: number
  name: string
  /** Versions implemented here; the highest one the broker also supports is used. */
  min: number
  max: number
  /** First flexible version: request header v2 and response header v1 from here on. */
  flexible: number
  encode: (w: Writer, version: number, req: Req) => void
  decode: (r: Reader, version: number) => Res
}

function int32s (r: Reader): number[] {
  return r.compactArray((x) => x.int32()) ?? []
}

// ---- ApiVersions (18) ------------------------------------------------------

export interface ApiVersionRange { key: number, min: number, max: number }
export interface ApiVersionsResponse { errorCode: number, apis: ApiVersionRange[] }

/**
 * v3 request. The response always has header v0 (KIP-511), and a broker that
 * does not support the requested version answers UNSUPPORTED_VERSION with a
 * v0 body listing its versions, so the body is decoded by its error code.
 */
export const ApiVersions: ApiSpec<{ softwareName: string, softwareVersion: string }, ApiVersionsResponse> = {
  key: 18,
  name: 'ApiVersions',
  min: 3,
  max: 3,
  flexible: 3,
  encode (w, _v, req) {
    w.compactString(req.softwareName).compactString(req.softwareVersion).tagged()
  },
  decode (r) {
    const errorCode = r.int16()
    if (errorCode !== 0) {
      const apis = r.array((x) => ({ key: x.int16(), min: x.int16(), max: x.int16() })) ?? []
      return { errorCode, apis }
    }
    const apis = r.compactArray((x) => {
      const api = { key: x.int16(), min: x.int16(), max: x.int16() }
      x.tagged()
      return api
    }) ?? []
    r.int32()
    r.tagged()
    return { errorCode, apis }
  }
}

// ---- SaslHandshake (17) / SaslAuthenticate (36) ----------------------------

export const SaslHandshake: ApiSpec<{ mechanism: string }, { errorCode: number, mechanisms: string[] }> = {
  key: 17,
  name: 'SaslHandshake',
  min: 1,
  max: 1,
  flexible: Infinity,
  encode (w, _v, req) {
    w.string(req.mechanism)
  },
  decode (r) {
    const errorCode = r.int16()
    const mechanisms = r.array((x) => x.string()) ?? []
    return { errorCode, mechanisms }
  }
}

export const SaslAuthenticate: ApiSpec<{ authBytes: Buffer }, { errorCode: number, errorMessage: string | null, authBytes: Buffer }> = {
  key: 36,
  name: 'SaslAuthenticate',
  min: 2,
  max: 2,
  flexible: 2,
  encode (w, _v, req) {
    w.compactBytes(req.authBytes).tagged()
  },
  decode (r) {
    const errorCode = r.int16()
    const errorMessage = r.compactNullableString()
    const authBytes = r.compactBytes() ?? Buffer.alloc(0)
    r.int64()
    r.tagged()
    return { errorCode, errorMessage, authBytes }
  }
}

// ---- DescribeCluster (60) --------------------------------------------------

export interface WireCluster {
  errorCode: number
  errorMessage: string | null
  clusterId: string
  controllerId: number
  brokers: Array<{ id: number, host: string, port: number, rack: string | null }>
}

/** v1 adds EndpointType (1 = brokers, KIP-919); v0 is what Kafka 2.8-3.6 offer. */
export const DescribeCluster: ApiSpec<Record<string, never>, WireCluster> = {
  key: 60,
  name: 'DescribeCluster',
  min: 0,
  max: 1,
  flexible: 0,
  encode (w, v) {
    w.bool(false)
    if (v >= 1) w.int8(1)
    w.tagged()
  },
  decode (r, v) {
    r.int32()
    const errorCode = r.int16()
    const errorMessage = r.compactNullableString()
    if (v >= 1) r.int8()
    const clusterId = r.compactString()
    const controllerId = r.int32()
    const brokers = r.compactArray((x) => {
      const b = { id: x.int32(), host: x.compactString(), port: x.int32(), rack: x.compactNullableString() }
      x.tagged()
      return b
    }) ?? []
    r.int32()
    r.tagged()
    return { errorCode, errorMessage, clusterId, controllerId, brokers }
  }
}

// ---- DescribeConfigs (32) --------------------------------------------------

export interface WireConfigEntry {
  name: string
  value: string | null
  readOnly: boolean
  source: number
  sensitive: boolean
  synonyms: Array<{ name: string, value: string | null, source: number }>
}
export interface WireConfigResult {
  errorCode: number
  errorMessage: string | null
  resourceType: number
  resourceName: string
  configs: WireConfigEntry[]
}

export const DescribeConfigs: ApiSpec<{ resources: Array<{ type: number, name: string }> }, WireConfigResult[]> = {
  key: 32,
  name: 'DescribeConfigs',
  min: 4,
  max: 4,
  flexible: 4,
  encode (w, _v, req) {
    w.compactArray(req.resources, (x, res) => {
      x.int8(res.type).compactString(res.name).compactArray(null, () => {}).tagged()
    })
    // IncludeSynonyms, IncludeDocumentation
    w.bool(true).bool(false).tagged()
  },
  decode (r) {
    r.int32()
    const results = r.compactArray((x) => {
      const errorCode = x.int16()
      const errorMessage = x.compactNullableString()
      const resourceType = x.int8()
      const resourceName = x.compactString()
      const configs = x.compactArray((c) => {
        const name = c.compactString()
        const value = c.compactNullableString()
        const readOnly = c.bool()
        const source = c.int8()
        const sensitive = c.bool()
        const synonyms = c.compactArray((s) => {
          const syn = { name: s.compactString(), value: s.compactNullableString(), source: s.int8() }
          s.tagged()
          return syn
        }) ?? []
        c.int8() // ConfigType
        c.compactNullableString() // Documentation
        c.tagged()
        return { name, value, readOnly, source, sensitive, synonyms }
      }) ?? []
      x.tagged()
      return { errorCode, errorMessage, resourceType, resourceName, configs }
    }) ?? []
    r.tagged()
    return results
  }
}

// ---- IncrementalAlterConfigs (44) ------------------------------------------

export interface WireResourceResult { errorCode: number, errorMessage: string | null, resourceType: number, resourceName: string }

export const IncrementalAlterConfigs: ApiSpec<{
  resources: Array<{ type: number, name: string, configs: Array<{ name: string, op: number, value: string | null }> }>
  validateOnly: boolean
}, WireResourceResult[]> = {
  key: 44,
  name: 'IncrementalAlterConfigs',
  min: 1,
  max: 1,
  flexible: 1,
  encode (w, _v, req) {
    w.compactArray(req.resources, (x, res) => {
      x.int8(res.type).compactString(res.name)
      x.compactArray(res.configs, (c, cfg) => {
        c.compactString(cfg.name).int8(cfg.op).compactString(cfg.value).tagged()
      })
      x.tagged()
    })
    w.bool(req.validateOnly).tagged()
  },
  decode (r) {
    r.int32()
    const results = r.compactArray((x) => {
      const res = { errorCode: x.int16(), errorMessage: x.compactNullableString(), resourceType: x.int8(), resourceName: x.compactString() }
      x.tagged()
      return res
    }) ?? []
    r.tagged()
    return results
  }
}

// ---- CreateTopics (19) -----------------------------------------------------

export interface WireCreatableTopic {
  name: string
  numPartitions: number
  replicationFactor: number
  assignments: Array<{ partition: number, brokers: number[] }>
  configs: Array<{ name: string, value: string | null }>
}
export interface WireCreatedTopic {
  name: string
  errorCode: number
  errorMessage: string | null
  numPartitions: number
  replicationFactor: number
  configs: Array<{ name: string, value: string | null, readOnly: boolean, source: number, sensitive: boolean }> | null
}

/** v5 is the first flexible version and returns the resulting configs (KIP-525); v7 adds TopicId. */
export const CreateTopics: ApiSpec<{ topics: WireCreatableTopic[], timeoutMs: number, validateOnly: boolean }, WireCreatedTopic[]> = {
  key: 19,
  name: 'CreateTopics',
  min: 5,
  max: 7,
  flexible: 5,
  encode (w, _v, req) {
    w.compactArray(req.topics, (x, t) => {
      x.compactString(t.name).int32(t.numPartitions).int16(t.replicationFactor)
      x.compactArray(t.assignments, (a, as) => {
        a.int32(as.partition).compactArray(as.brokers, (b, id) => b.int32(id)).tagged()
      })
      x.compactArray(t.configs, (c, cfg) => {
        c.compactString(cfg.name).compactString(cfg.value).tagged()
      })
      x.tagged()
    })
    w.int32(req.timeoutMs).bool(req.validateOnly).tagged()
  },
  decode (r, v) {
    r.int32()
    const topics = r.compactArray((x) => {
      const name = x.compactString()
      if (v >= 7) x.uuid()
      const errorCode = x.int16()
      const errorMessage = x.compactNullableString()
      const numPartitions = x.int32()
      const replicationFactor = x.int16()
      const configs = x.compactArray((c) => {
        const cfg = { name: c.compactString(), value: c.compactNullableString(), readOnly: c.bool(), source: c.int8(), sensitive: c.bool() }
        c.tagged()
        return cfg
      })
      x.tagged() // tag 0: TopicConfigErrorCode
      return { name, errorCode, errorMessage, numPartitions, replicationFactor, configs }
    }) ?? []
    r.tagged()
    return topics
  }
}

// ---- DeleteTopics (20) -----------------------------------------------------

export interface WireTopicResult { name: string | null, errorCode: number, errorMessage: string | null }

/** v4 is the first flexible version; v5 adds ErrorMessage; v6 names topics by name or id (KIP-516). */
export const DeleteTopics: ApiSpec<{ names: string[], timeoutMs: number }, WireTopicResult[]> = {
  key: 20,
  name: 'DeleteTopics',
  min: 4,
  max: 6,
  flexible: 4,
  encode (w, v, req) {
    if (v >= 6) {
      w.compactArray(req.names, (x, name) => x.compactString(name).uuid(null).tagged())
    } else {
      w.compactArray(req.names, (x, name) => x.compactString(name))
    }
    w.int32(req.timeoutMs).tagged()
  },
  decode (r, v) {
    r.int32()
    const results = r.compactArray((x) => {
      const name = x.compactNullableString()
      if (v >= 6) x.uuid()
      const errorCode = x.int16()
      const errorMessage = v >= 5 ? x.compactNullableString() : null
      x.tagged()
      return { name, errorCode, errorMessage }
    }) ?? []
    r.tagged()
    return results
  }
}

// ---- CreatePartitions (37) -------------------------------------------------

export const CreatePartitions: ApiSpec<{ topics: Array<{ name: string, count: number }>, timeoutMs: number, validateOnly: boolean }, WireTopicResult[]> = {
  key: 37,
  name: 'CreatePartitions',
  min: 2,
  max: 3,
  flexible: 2,
  encode (w, _v, req) {
    w.compactArray(req.topics, (x, t) => {
      x.compactString(t.name).int32(t.count).compactArray(null, () => {}).tagged()
    })
    w.int32(req.timeoutMs).bool(req.validateOnly).tagged()
  },
  decode (r) {
    r.int32()
    const results = r.compactArray((x) => {
      const res = { name: x.compactString(), errorCode: x.int16(), errorMessage: x.compactNullableString() }
      x.tagged()
      return res
    }) ?? []
    r.tagged()
    return results
  }
}

// ---- ListPartitionReassignments (46) ---------------------------------------

export interface WireReassignments {
  errorCode: number
  errorMessage: string | null
  topics: Array<{ name: string, partitions: Array<{ partition: number, replicas: number[], adding: number[], removing: number[] }> }>
}

export const ListPartitionReassignments: ApiSpec<{ timeoutMs: number, topics: Array<{ name: string, partitions: number[] }> | null }, WireReassignments> = {
  key: 46,
  name: 'ListPartitionReassignments',
  min: 0,
  max: 0,
  flexible: 0,
  encode (w, _v, req) {
    w.int32(req.timeoutMs)
    w.compactArray(req.topics, (x, t) => {
      x.compactString(t.name).compactArray(t.partitions, (p, id) => p.int32(id)).tagged()
    })
    w.tagged()
  },
  decode (r) {
    r.int32()
    const errorCode = r.int16()
    const errorMessage = r.compactNullableString()
    const topics = r.compactArray((x) => {
      const name = x.compactString()
      const partitions = x.compactArray((p) => {
        const part = { partition: p.int32(), replicas: int32s(p), adding: int32s(p), removing: int32s(p) }
        p.tagged()
        return part
      }) ?? []
      x.tagged()
      return { name, partitions }
    }) ?? []
    r.tagged()
    return { errorCode, errorMessage, topics }
  }
}

// ---- DescribeAcls (29) / CreateAcls (30) / DeleteAcls (31) -----------------

/** An ACL binding or filter in wire codes; null strings only in filters. */
export interface WireAcl {
  resourceType: number
  resourceName: string | null
  patternType: number
  principal: string | null
  host: string | null
  operation: number
  permission: number
}

function writeAclFilter (w: Writer, f: WireAcl): void {
  w.int8(f.resourceType).compactString(f.resourceName).int8(f.patternType)
  w.compactString(f.principal).compactString(f.host).int8(f.operation).int8(f.permission)
}

/** v2 is the first flexible version; v3 adds the USER resource type (KIP-554). */
export const DescribeAcls: ApiSpec<WireAcl, { errorCode: number, errorMessage: string | null, acls: WireAcl[] }> = {
  key: 29,
  name: 'DescribeAcls',
  min: 2,
  max: 3,
  flexible: 2,
  encode (w, _v, req) {
    writeAclFilter(w, req)
    w.tagged()
  },
  decode (r) {
    r.int32()
    const errorCode = r.int16()
    const errorMessage = r.compactNullableString()
    const acls: WireAcl[] = []
    r.compactArray((x) => {
      const resourceType = x.int8()
      const resourceName = x.compactString()
      const patternType = x.int8()
      x.compactArray((a) => {
        acls.push({ resourceType, resourceName, patternType, principal: a.compactString(), host: a.compactString(), operation: a.int8(), permission: a.int8() })
        a.tagged()
      })
      x.tagged()
    })
    r.tagged()
    return { errorCode, errorMessage, acls }
  }
}

export const CreateAcls: ApiSpec<WireAcl[], Array<{ errorCode: number, errorMessage: string | null }>> = {
  key: 30,
  name: 'CreateAcls',
  min: 2,
  max: 3,
  flexible: 2,
  encode (w, _v, req) {
    w.compactArray(req, (x, acl) => {
      writeAclFilter(x, acl)
      x.tagged()
    })
    w.tagged()
  },
  decode (r) {
    r.int32()
    const results = r.compactArray((x) => {
      const res = { errorCode: x.int16(), errorMessage: x.compactNullableString() }
      x.tagged()
      return res
    }) ?? []
    r.tagged()
    return results
  }
}

export interface WireDeleteAclsResult {
  errorCode: number
  errorMessage: string | null
  matching: Array<WireAcl & { errorCode: number, errorMessage: string | null }>
}

export const DeleteAcls: ApiSpec<WireAcl[], WireDeleteAclsResult[]> = {
  key: 31,
  name: 'DeleteAcls',
  min: 2,
  max: 3,
  flexible: 2,
  encode (w, _v, req) {
    w.compactArray(req, (x, f) => {
      writeAclFilter(x, f)
      x.tagged()
    })
    w.tagged()
  },
  decode (r) {
    r.int32()
    const results = r.compactArray((x) => {
      const errorCode = x.int16()
      const errorMessage = x.compactNullableString()
      const matching = x.compactArray((a) => {
        const m = {
          errorCode: a.int16(),
          errorMessage: a.compactNullableString(),
          resourceType: a.int8(),
          resourceName: a.compactString(),
          patternType: a.int8(),
          principal: a.compactString(),
          host: a.compactString(),
          operation: a.int8(),
          permission: a.int8()
        }
        a.tagged()
        return m
      }) ?? []
      x.tagged()
      return { errorCode, errorMessage, matching }
    }) ?? []
    r.tagged()
    return results
  }
}
