// v3 groups resources (placeholder: registers nothing yet).
import type { V3Module } from './index.js'

export const registerGroups: V3Module = () => undefined
