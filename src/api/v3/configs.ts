// v3 configs resources (placeholder: registers nothing yet).
import type { V3Module } from './index.js'

export const registerConfigs: V3Module = () => undefined
