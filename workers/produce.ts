// Piscina task: decode a large v2 produce body (binary or json) off the event
// loop. Pure: no sockets, no config.
import { decodeProduceBody, type PlainFormat } from '../src/produce/v2-body.js'
import type { JsonLimits } from '../src/json/parse.js'
import { runBatchTask, type BatchTaskResult } from './batch-task.js'

export interface ProduceTask {
  format: PlainFormat
  body: Uint8Array
  limits: JsonLimits
}

export type ProduceTaskResult = BatchTaskResult

export default function decodeProduce (task: ProduceTask): ProduceTaskResult {
  return runBatchTask(task.body, (body) => decodeProduceBody(task.format, body, task.limits))
}
