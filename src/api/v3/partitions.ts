// v3 partitions resources (placeholder: registers nothing yet).
import type { V3Module } from './index.js'

export const registerPartitions: V3Module = () => undefined
