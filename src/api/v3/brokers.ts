// v3 brokers resources (placeholder: registers nothing yet).
import type { V3Module } from './index.js'

export const registerBrokers: V3Module = () => undefined
