// v3 read resources (placeholder: registers nothing yet).
import type { V3Module } from './index.js'

export const registerRead: V3Module = () => undefined
