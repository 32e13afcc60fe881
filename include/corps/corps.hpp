// corps: typed protobuf messaging over Apache Kafka.
//
// Include this header for the whole public API, or the per-concept headers
// for less. The image pipeline's message types are not part of it: include
// corps/image.pb.h and corps/prediction.pb.h where they are used.
#pragma once

#include "corps/admin.hpp"
#include "corps/broker.hpp"
#include "corps/codec.hpp"
#include "corps/config.hpp"
#include "corps/consumer.hpp"
#include "corps/dead_letter.hpp"
#include "corps/error.hpp"
#include "corps/headers.hpp"
#include "corps/logging.hpp"
#include "corps/message_handler.hpp"
#include "corps/message_loader.hpp"
#include "corps/metadata.hpp"
#include "corps/metrics.hpp"
#include "corps/metrics_server.hpp"
#include "corps/producer.hpp"
#include "corps/record.hpp"
#include "corps/registry.hpp"
#include "corps/replay.hpp"
#include "corps/result.hpp"
#include "corps/retry.hpp"
#include "corps/schema.hpp"
#include "corps/shutdown.hpp"
#include "corps/trace_context.hpp"
