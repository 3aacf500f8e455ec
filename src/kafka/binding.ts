// The Kafka client library is CommonJS; Node's ESM loader cannot see all of
// its named exports, so the classes are taken from its default export here.
import rdkafka from '@confluentinc/kafka-javascript'

export const { Producer, AdminClient, KafkaConsumer } = rdkafka
export type {
  Producer as ProducerClient,
  Message as ConsumerMessage,
  TopicPartitionOffset,
  Metadata,
  TopicMetadata,
  PartitionMetadata,
  BrokerMetadata,
  DeliveryReport,
  MessageHeader,
  LibrdKafkaError
} from '@confluentinc/kafka-javascript'

/** The consumer's methods the binding has but its type declarations omit. */
export type ConsumerClient = InstanceType<typeof KafkaConsumer> & {
  setDefaultIsTimeoutOnlyForFirstMessage (onlyFirst: boolean): void
  incrementalAssign (partitions: Array<{ topic: string, partition: number }>): void
  incrementalUnassign (partitions: Array<{ topic: string, partition: number }>): void
  commitCb (offsets: Array<{ topic: string, partition: number, offset: number, metadata?: string }>, cb: (err: { code: number, message: string } | null) => void): void
}
