// Every route the proxy serves, as one table: the v2 API, health and the
// document, then the v3 API. Each module declares its own routes next to
// their handlers; the server binds this table to those handlers and builds
// its router from it, and the OpenAPI document is generated from it, so a
// route cannot be served without being documented, nor documented without
// being served. Only routes marked `internal` (the web console's files,
// /metrics) are served and left out of the document.
import { joinRoutes } from '../http/route.js'
import { CONSOLE_ROUTES } from './console.js'
import { HEALTH_ROUTES } from './health.js'
import { METRICS_ROUTES } from './metrics.js'
import { PEER_ROUTES } from './peers.js'
import { OPENAPI_ROUTES, openApiDocument } from './openapi.js'
import { ROOT_ROUTES } from './v2/root.js'
import { TOPIC_ROUTES } from './v2/topics.js'
import { PARTITION_ROUTES } from './v2/partitions.js'
import { PRODUCE_ROUTES } from './v2/produce.js'
import { BROKER_ROUTES } from './v2/brokers.js'
import { CONSUMER_ROUTES } from './v2/consumers.js'
import { CLUSTER_ROUTES } from './v3/clusters.js'
import { ACL_ROUTES } from './v3/acls.js'
import { CONFIG_ROUTES } from './v3/configs.js'
import { V3_BROKER_ROUTES } from './v3/brokers.js'
import { GROUP_ROUTES } from './v3/groups.js'
import { V3_TOPIC_ROUTES } from './v3/topics.js'
import { V3_PARTITION_ROUTES } from './v3/partitions.js'
import { READ_ROUTES } from './v3/read.js'
import { RECORD_ROUTES } from './v3/records.js'
import { STREAM_ROUTES } from '../streams/routes.js'
import { SUBSCRIPTION_ROUTES } from '../webhooks/routes.js'

export const ROUTES = joinRoutes(
  ROOT_ROUTES, TOPIC_ROUTES, PARTITION_ROUTES, PRODUCE_ROUTES, BROKER_ROUTES, CONSUMER_ROUTES,
  HEALTH_ROUTES, OPENAPI_ROUTES, CONSOLE_ROUTES, METRICS_ROUTES, PEER_ROUTES,
  CLUSTER_ROUTES, ACL_ROUTES, CONFIG_ROUTES, V3_BROKER_ROUTES, GROUP_ROUTES, V3_TOPIC_ROUTES, V3_PARTITION_ROUTES,
  READ_ROUTES, RECORD_ROUTES, STREAM_ROUTES, SUBSCRIPTION_ROUTES
)

/** The served OpenAPI document, generated from ROUTES. */
export const OPENAPI = openApiDocument(ROUTES)
