// v3 clusters resources (placeholder: registers nothing yet).
import type { V3Module } from './index.js'

export const registerClusters: V3Module = () => undefined
