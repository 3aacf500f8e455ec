// The Kafka client library is CommonJS; Node's ESM loader cannot see all of
// its named exports, so the classes are taken from its default export here.
import rdkafka from '@confluentinc/kafka-javascript'

export const { Producer, AdminClient, KafkaConsumer } = rdkafka
export type {
  Producer as ProducerClient,
  Metadata,
  TopicMetadata,
  PartitionMetadata,
  BrokerMetadata,
  DeliveryReport,
  MessageHeader,
  LibrdKafkaError
} from '@confluentinc/kafka-javascript'
