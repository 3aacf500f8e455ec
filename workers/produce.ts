// Piscina task: decode a large v2 produce body (binary or json) off the event
// loop. Pure: no sockets, no config. The task's types belong to the code that
// runs it (src/produce/v2-body.ts): src/ never imports from workers/.
import { decodeProduceBody, type BatchTaskResult, type ProduceTask } from '../src/produce/v2-body.js'
import { runBatchTask } from './batch-task.js'

export default function decodeProduce (task: ProduceTask): BatchTaskResult {
  return runBatchTask(task.body, (body) => decodeProduceBody(task.format, body, task.limits))
}
