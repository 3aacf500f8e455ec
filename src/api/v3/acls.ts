// v3 ACLs: search, create, delete and batch create (spec §2.2), over the
// admin client (src/kafka/admin.ts: DescribeAcls, CreateAcls, DeleteAcls).
import { ProxyError } from '../../errors.js'
import type { Ctx, Handler, Reply } from '../../http/handler.js'
import { NO_CONTENT } from '../../http/handler.js'
import { defineRoutes, type Access, type Handlers } from '../../http/route.js'
import { adminError } from '../../kafka/errors.js'
import type {
  AclBinding,
  AclFilter,
  AclOperation,
  AclPatternType,
  AclPermission,
  AclResourceType,
  KafkaAdmin
} from '../../kafka/admin.js'
import { enumParam, json, type Resources } from './resource.js'
import { JSON_MEDIA, NO_CONTENT_RESPONSE, param, ref, STRING, V3_READ_ERRORS, V3_WRITE_ERRORS } from '../components.js'

// Declaration order is the sort order of listed ACLs (Confluent compares the
// enums by ordinal).
export const RESOURCE_TYPES: readonly AclResourceType[] = ['UNKNOWN', 'ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN']
export const PATTERN_TYPES: readonly AclPatternType[] = ['UNKNOWN', 'ANY', 'MATCH', 'LITERAL', 'PREFIXED']
export const OPERATIONS: readonly AclOperation[] = [
  'UNKNOWN', 'ANY', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE',
  'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE'
]
export const PERMISSIONS: readonly AclPermission[] = ['UNKNOWN', 'ANY', 'DENY', 'ALLOW']

// Kafka accepts exactly this name for CLUSTER resources (ResourcePattern.CLUSTER_NAME).
const CLUSTER_NAME = 'kafka-cluster'

export interface AclData {
  kind: 'KafkaAcl'
  metadata: { self: string }
  cluster_id: string
  resource_type: AclResourceType
  resource_name: string
  pattern_type: AclPatternType
  principal: string
  host: string
  operation: AclOperation
  permission: AclPermission
}

function badRequest (detail: string): ProxyError {
  return new ProxyError('badRequest', `Bad Request: ${detail}`)
}

/**
 * The query of a search or delete. `required` (delete) rejects absent enum
 * parameters as well as UNKNOWN; a search defaults them to ANY.
 */
export function parseFilter (query: string, required: boolean): AclFilter {
  const q = new URLSearchParams(query)
  function pick<T extends string> (name: string, values: readonly T[]): T {
    const raw = q.get(name)
    if (required && (raw === null || raw === '')) throw badRequest(`${name} cannot be unspecified or UNKNOWN`)
    const v = enumParam(raw, values, name, 'ANY' as T)
    if (v === 'UNKNOWN') throw badRequest(required ? `${name} cannot be unspecified or UNKNOWN` : `${name} cannot be UNKNOWN`)
    return v
  }
  const text = (name: string): string | null => {
    const v = q.get(name)
    return v === null || v === '' ? null : v
  }
  return {
    resourceType: pick('resource_type', RESOURCE_TYPES),
    resourceName: text('resource_name'),
    patternType: pick('pattern_type', PATTERN_TYPES),
    principal: text('principal'),
    host: text('host'),
    operation: pick('operation', OPERATIONS),
    permission: pick('permission', PERMISSIONS)
  }
}

/** One CreateAclRequest object; `where` prefixes messages (e.g. "data[2]."). */
export function parseBinding (body: unknown, where = ''): AclBinding {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`${where === '' ? 'the request body' : where.slice(0, -1)} must be a JSON object`)
  const o = body as Record<string, unknown>
  const str = (name: string): string => {
    const v = o[name]
    if (typeof v !== 'string') throw badRequest(`${where}${name} is required and must be a string`)
    return v
  }
  function concrete<T extends string> (name: string, values: readonly T[], refused: readonly T[]): T {
    const v = enumParam(str(name), values, `${where}${name}`, 'UNKNOWN' as T)
    if (refused.includes(v)) throw badRequest(`${where}${name} cannot be ${v}`)
    return v
  }
  const binding: AclBinding = {
    resourceType: concrete('resource_type', RESOURCE_TYPES, ['UNKNOWN', 'ANY']),
    resourceName: str('resource_name'),
    patternType: concrete('pattern_type', PATTERN_TYPES, ['UNKNOWN', 'ANY', 'MATCH']),
    principal: str('principal'),
    host: str('host'),
    operation: concrete('operation', OPERATIONS, ['UNKNOWN', 'ANY']),
    permission: concrete('permission', PERMISSIONS, ['UNKNOWN', 'ANY'])
  }
  // The broker refuses the same with INVALID_REQUEST (40002); checking first
  // keeps a batch from being half created.
  if (binding.resourceType === 'CLUSTER' && binding.resourceName !== CLUSTER_NAME) {
    throw new ProxyError('kafkaBadRequest', `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`)
  }
  return binding
}

/** The query naming one ACL (or a search), in Confluent's parameter order. */
export function aclQuery (a: { resourceType: string, resourceName: string | null, patternType: string, principal: string | null, host: string | null, operation: string, permission: string }): string {
  return new URLSearchParams([
    ['resource_type', a.resourceType],
    ['resource_name', a.resourceName ?? ''],
    ['pattern_type', a.patternType],
    ['principal', a.principal ?? ''],
    ['host', a.host ?? ''],
    ['operation', a.operation],
    ['permission', a.permission]
  ]).toString()
}

function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Confluent's order: resource type, name, pattern type, principal, host, operation, permission. */
export function compareAcls (a: AclBinding, b: AclBinding): number {
  return RESOURCE_TYPES.indexOf(a.resourceType) - RESOURCE_TYPES.indexOf(b.resourceType) ||
    compareStrings(a.resourceName, b.resourceName) ||
    PATTERN_TYPES.indexOf(a.patternType) - PATTERN_TYPES.indexOf(b.patternType) ||
    compareStrings(a.principal, b.principal) ||
    compareStrings(a.host, b.host) ||
    OPERATIONS.indexOf(a.operation) - OPERATIONS.indexOf(b.operation) ||
    PERMISSIONS.indexOf(a.permission) - PERMISSIONS.indexOf(b.permission)
}

const ACL_TAGS = ['ACL (v3)']
const ACLS = '/v3/clusters/{cluster_id}/acls'
// ACLs are the cluster's: Kafka authorizes DescribeAcls as Describe on the
// cluster, CreateAcls and DeleteAcls as Alter on it.
const DESCRIBE_CLUSTER: Access = { operation: 'Describe', resource: 'cluster' }
const ALTER_CLUSTER: Access = { operation: 'Alter', resource: 'cluster' }

export const ACL_ROUTES = defineRoutes({
  getKafkaV3Acls: {
    method: 'GET',
    path: ACLS,
    summary: 'Search ACLs',
    tags: ACL_TAGS,
    access: [DESCRIBE_CLUSTER],
    query: ['AclResourceType', 'AclResourceName', 'AclPatternType', 'AclPrincipal', 'AclHost', 'AclOperation', 'AclPermission'].map(param),
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The ACLs that match.', schema: ref('AclDataList') } },
    errors: V3_READ_ERRORS
  },
  createKafkaV3Acls: {
    method: 'POST',
    path: ACLS,
    summary: 'Create an ACL',
    tags: ACL_TAGS,
    access: [ALTER_CLUSTER],
    consumes: JSON_MEDIA,
    body: { required: true, schema: ref('CreateAclRequestData') },
    produces: JSON_MEDIA,
    responses: { 201: { description: 'Created; `Location` is the search URL of the new ACL.', headers: { Location: STRING } } },
    errors: V3_WRITE_ERRORS
  },
  deleteKafkaV3Acls: {
    method: 'DELETE',
    path: ACLS,
    summary: 'Delete ACLs',
    tags: ACL_TAGS,
    access: [ALTER_CLUSTER],
    query: ['AclResourceTypeRequired', 'AclResourceName', 'AclPatternTypeRequired', 'AclPrincipal', 'AclHost', 'AclOperationRequired', 'AclPermissionRequired'].map(param),
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The deleted ACLs.', schema: ref('DeleteAclsResponseData') } },
    errors: V3_READ_ERRORS
  },
  batchCreateKafkaV3Acls: {
    method: 'POST',
    path: `${ACLS}:batch`,
    summary: 'Batch Create ACLs',
    // Confluent answers 204 here; its OpenAPI document says 201 (spec §0).
    description: '204, as Confluent\'s proxy answers (its document says 201).',
    tags: ACL_TAGS,
    access: [ALTER_CLUSTER],
    consumes: JSON_MEDIA,
    body: { required: true, schema: ref('CreateAclRequestDataList') },
    produces: JSON_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V3_WRITE_ERRORS
  }
})

export function aclHandlers (deps: { resources: Resources, admin: KafkaAdmin }): Handlers<typeof ACL_ROUTES> {
  const res: Resources = deps.resources
  const admin = deps.admin

  function handle (fn: (ctx: Ctx) => Promise<Reply>): Handler {
    return async (ctx) => {
      try {
        return await fn(ctx)
      } catch (err) {
        throw adminError(err)
      }
    }
  }

  const aclsUrl = (ctx: Ctx, cid: string): string => res.url(ctx, cid, 'acls')

  function aclData (ctx: Ctx, cid: string, a: AclBinding): AclData {
    return {
      kind: 'KafkaAcl',
      metadata: { self: `${aclsUrl(ctx, cid)}?${aclQuery(a)}` },
      cluster_id: cid,
      resource_type: a.resourceType,
      resource_name: a.resourceName,
      pattern_type: a.patternType,
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permission: a.permission
    }
  }

  async function create (bindings: AclBinding[]): Promise<void> {
    if (bindings.length === 0) return
    const results = await admin.createAcls(bindings)
    const failed = results.find((e) => e !== null)
    if (failed !== undefined && failed !== null) throw failed
  }

  const search = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const filter = parseFilter(ctx.query, false)
    const found = await admin.describeAcls(filter)
    const data = [...found].sort(compareAcls).map((a) => aclData(ctx, cid, a))
    return json(200, res.list('KafkaAclList', `${aclsUrl(ctx, cid)}?${aclQuery(filter)}`, data))
  })

  const createOne = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const binding = parseBinding(await res.body(ctx))
    await create([binding])
    return { status: 201, body: null, headers: { location: `${aclsUrl(ctx, cid)}?${aclQuery(binding)}` } }
  })

  const remove = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const filter = parseFilter(ctx.query, true)
    const [result] = await admin.deleteAcls([filter])
    if (result === undefined) return json(200, { data: [] })
    if (result.error !== null) throw result.error
    const data = [...result.deleted].sort(compareAcls).map((a) => aclData(ctx, cid, a))
    return json(200, { data })
  })

  const batch = handle(async (ctx) => {
    await res.cluster(ctx)
    const body = await res.body(ctx)
    if (!Array.isArray(body.data)) throw badRequest('data is required and must be an array')
    const bindings = (body.data as unknown[]).map((item, i) => parseBinding(item, `data[${i}].`))
    await create(bindings)
    return NO_CONTENT
  })

  return {
    getKafkaV3Acls: search,
    createKafkaV3Acls: createOne,
    deleteKafkaV3Acls: remove,
    batchCreateKafkaV3Acls: batch
  }
}
