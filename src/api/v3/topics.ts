// v3 topics resources (placeholder: registers nothing yet).
import type { V3Module } from './index.js'

export const registerTopics: V3Module = () => undefined
