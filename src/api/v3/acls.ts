// v3 acls resources (placeholder: registers nothing yet).
import type { V3Module } from './index.js'

export const registerAcls: V3Module = () => undefined
