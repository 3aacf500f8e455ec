// Which embedded dev services a configuration runs. The primary starts them from this answer and
// `npm start` fetches their jars from it, so what is downloaded and what runs cannot disagree.
import type { Config } from '../config/schema.js'

export interface DevServices {
  /** The single-node broker: only when no cluster is configured. */
  readonly broker: boolean
  /** The schema registry: only next to the embedded broker, and only when no registry is configured. */
  readonly registry: boolean
}

/**
 * With a real cluster, schema ids written into its records must come from the registry its other
 * clients use, never from a private one, so the registry never starts without the broker.
 */
export function devServicesNeeded (config: { readonly kafka: Pick<Config['kafka'], 'bootstrap_servers'>, readonly schema_registry: Pick<Config['schema_registry'], 'url'> }): DevServices {
  const broker = config.kafka.bootstrap_servers === ''
  return { broker, registry: broker && config.schema_registry.url === '' }
}
